"""tools/train.py --amp on a CPU-only machine: bf16 autocast end to end
(mmengine's AmpOptimWrapper refuses CPU; AutocastOptimWrapper runs)."""
import math
import os.path as osp
import re

import torch

from tools_testlib import REPO, SYNTH_CFG, run_tool, tiny_options


def test_train_with_amp_on_cpu(tmp_path, corpus_root):
    run_tool([osp.join(REPO, 'tools', 'train.py'), SYNTH_CFG, '--amp',
              '--work-dir', str(tmp_path), '--seed', '0', '--cfg-options',
              *tiny_options(corpus_root, ['sub01', 'sub02'], max_epochs=1,
                            batch_size=4)])
    ckpt = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)
    weights = ckpt['state_dict']
    assert all(torch.isfinite(v).all() for v in weights.values()
               if v.is_floating_point())
    # fp32 master weights; bf16 needs no loss scaler state
    assert weights['backbone.conv1.weight'].dtype == torch.float32
    assert 'loss_scaler' not in ckpt['optimizer']
    logs = open(next(tmp_path.glob('*/*.log'))).read()
    assert 'AutocastOptimWrapper' in logs
    losses = [float(x) for x in re.findall(r' loss: ([0-9.naife+-]+)', logs)]
    assert losses and all(math.isfinite(x) for x in losses)
