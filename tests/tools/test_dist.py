"""Data-parallel training: 2 CPU processes through tools/dist_train.sh
(torchrun + gloo on a CPU-only torch), then a 2-process test."""
import os.path as osp
import re
import subprocess
import sys

import torch

from tools_testlib import (REPO, SYNTH_CFG, free_port, read_metrics,
                           tiny_options, tool_env)


def _run(cmd, **env):
    proc = subprocess.run(cmd, cwd=REPO, env=tool_env(**env),
                          capture_output=True, text=True, timeout=240)
    # a crashing rank's own words can sit anywhere in the interleaved stderr
    crash = [line for line in proc.stderr.splitlines()
             if re.search(r'terminate|what\(\)|Error|Exception|Abort|Signal',
                          line)]
    assert proc.returncode == 0, (
        f'{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-4000:]}\n'
        'crash lines:\n' + '\n'.join(crash[-40:]))
    return proc


def test_two_process_cpu_training_and_test(tmp_path, corpus_root):
    work_dir = tmp_path / 'dist'
    opts = tiny_options(corpus_root, ['sub01', 'sub02'], max_epochs=1,
                        batch_size=2)
    _run(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), SYNTH_CFG, '2',
          '--work-dir', str(work_dir), '--cfg-options', *opts],
         PORT=free_port(), PYTHON=sys.executable)

    ckpt = work_dir / 'epoch_1.pth'
    state = torch.load(ckpt, weights_only=True)
    assert state['meta']['epoch'] == 1
    # no DDP 'module.' prefix in the saved weights, one RNG state per rank
    assert not any(k.startswith('module.') for k in state['state_dict'])
    assert len(state['rng_states']) == 2
    log = open(next(work_dir.glob('*/*.log'))).read()
    assert "dist_cfg: {'backend': 'gloo'}" in log
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size

    _run(['bash', osp.join(REPO, 'tools', 'dist_test.sh'), SYNTH_CFG,
          str(ckpt), '2', '--work-dir', str(work_dir), '--cfg-options',
          *tiny_options(corpus_root, ['sub01', 'sub02'])],
         PORT=free_port(), PYTHON=sys.executable)
    metrics = read_metrics(work_dir / 'test_metrics.json')
    assert metrics['num_samples'] == 16  # 2 subjects x 8 clips, all ranks
