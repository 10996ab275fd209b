"""tools/benchmarks/profile_train_step.py on tiny clips on the CPU: the
parts, backward nodes and ratios it reports, and its JSON."""
import json
import sys

import torch

from tools_testlib import TOOLS

sys.path.insert(0, TOOLS)
from benchmarks import profile_train_step as P  # noqa: E402


def test_profile_reports_parts_backward_and_ratios(tmp_path):
    out = tmp_path / 'profile.json'
    threads = torch.get_num_threads()
    try:
        res = P.main(['--device', 'cpu', '--size', '32', '--clips', '3',
                      '--min-len', '4', '--max-len', '9', '--steps', '1',
                      '--variants', 'fp32', 'amp', '--out', str(out)])
    finally:
        torch.set_num_threads(threads)
    assert json.loads(out.read_text())['variants'].keys() == {'fp32', 'amp'}
    assert len(res['lengths']) == 3 and min(res['lengths']) == 4 and \
        max(res['lengths']) == 9
    for variant in res['variants'].values():
        akm, bare = variant['models']['akmnet'], variant['models']['bare']
        assert set(akm['parts']) == {'data_preprocessor', 'backbone', 'neck',
                                     'cls_head', 'loss_aux'}
        assert set(bare['parts']) == {'data_preprocessor', 'backbone', 'fc'}
        # the backbone dominates the forward at any size; its backward runs
        nodes = {row['node'] for row in akm['backward']}
        assert 'ConvolutionBackward0' in nodes
        assert akm['parts']['backbone']['device_ms'] > \
            akm['parts']['neck']['device_ms']
        # the GRU, neck and losses add operators to the bare step's
        assert akm['launches'] > bare['launches'] > 0
        assert 0 < akm['busy'] <= 1.05
        assert variant['akmnet_vs_bare']['launches'] == \
            akm['launches'] / bare['launches']


def test_part_ranges_leave_no_hooks():
    model = torch.nn.Module()
    model.backbone = torch.nn.Linear(2, 2)
    with P.part_ranges(model):
        assert len(model.backbone._forward_hooks) == 1
        model.backbone(torch.zeros(1, 2))
    assert not model.backbone._forward_hooks
    assert not model.backbone._forward_pre_hooks
