"""tools/train.py -> tools/test.py end to end, kill -9 + --resume, outputs.

One tiny uninterrupted run (3 epochs, a checkpoint every epoch) is the
baseline; a second run with the same seed is killed with SIGKILL mid-training
after its first checkpoint, resumed with ``--resume`` and must end with the
same weights and the same test metrics.
"""
import os
import os.path as osp
import pickle
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from tools_testlib import (REPO, SYNTH_CFG, read_metrics, run_tool,
                           tiny_options, tool_env)

SUBJECTS = ['sub01', 'sub02', 'sub03']
EPOCHS = 3


def _train_cmd(work_dir, corpus_root, *extra):
    return [osp.join(REPO, 'tools', 'train.py'), SYNTH_CFG, '--work-dir',
            str(work_dir), '--seed', '0', *extra, '--cfg-options',
            *tiny_options(corpus_root, SUBJECTS, max_epochs=EPOCHS,
                          batch_size=2)]


def _test(work_dir, corpus_root, ckpt, dump=None):
    args = [osp.join(REPO, 'tools', 'test.py'), SYNTH_CFG, str(ckpt),
            '--work-dir', str(work_dir)]
    if dump:
        args += ['--dump', str(dump)]
    args += ['--cfg-options', *tiny_options(corpus_root, SUBJECTS)]
    run_tool(args)
    return read_metrics(osp.join(work_dir, 'test_metrics.json'))


def _pth_files(work_dir):
    return sorted(f for f in os.listdir(work_dir) if f.endswith('.pth'))


def _assert_checkpoints_complete(work_dir):
    """Every visible .pth loads (checkpoints are complete or absent)."""
    for name in _pth_files(work_dir):
        ckpt = torch.load(osp.join(work_dir, name), weights_only=True)
        assert 'state_dict' in ckpt and 'meta' in ckpt, name


@pytest.fixture(scope='module')
def baseline(tmp_path_factory, corpus_root):
    work_dir = tmp_path_factory.mktemp('uninterrupted')
    run_tool(_train_cmd(work_dir, corpus_root))
    ckpt = osp.join(work_dir, f'epoch_{EPOCHS}.pth')
    dump = work_dir / 'predictions.pkl'
    metrics = _test(work_dir, corpus_root, ckpt, dump=dump)
    return dict(work_dir=work_dir, ckpt=ckpt, metrics=metrics, dump=dump)


def test_train_then_test_end_to_end(baseline, corpus_root):
    work_dir = baseline['work_dir']
    # checkpoints: only the newest kept (max_keep_ckpts=1), marker points at it
    assert _pth_files(work_dir) == [f'epoch_{EPOCHS}.pth']
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip() == baseline['ckpt']
    _assert_checkpoints_complete(work_dir)
    ckpt = torch.load(baseline['ckpt'], weights_only=True)
    assert ckpt['meta']['epoch'] == EPOCHS
    assert len(ckpt['rng_states']) == 1  # one process
    # no temp file left behind
    assert not [f for f in os.listdir(work_dir) if f.endswith('.tmp')]

    metrics = baseline['metrics']
    for key in ('acc', 'UF1', 'UAR'):
        assert 0.0 <= metrics[key] <= 1.0, key
    with open(baseline['dump'], 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == metrics['num_samples'] > 0
    sample = preds[0]
    assert sample['subject'].split('/')[-1] in SUBJECTS
    assert sample['pred_score'].shape[-1] == 4
    assert 'key_frames' in sample and 'frame_weights' in sample


def test_kill9_mid_epoch_then_resume_matches_uninterrupted(
        baseline, corpus_root, tmp_path):
    work_dir = tmp_path / 'killed'
    cmd = [sys.executable] + _train_cmd(work_dir, corpus_root)
    proc = subprocess.Popen(cmd, cwd=REPO, env=tool_env(),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    marker = work_dir / 'last_checkpoint'
    deadline = time.time() + 180
    progress = re.compile(r'Epoch\(train\)\s*\[2\]\[\s*(\d+)/(\d+)\]')
    killed_at = None
    try:
        # wait for the first checkpoint, then for an iteration of epoch 2
        # that is not its last one: SIGKILL lands mid-epoch
        while killed_at is None:
            assert proc.poll() is None, 'training ended before the kill'
            assert time.time() < deadline, 'epoch 2 not reached in 180 s'
            time.sleep(0.02)
            logs = list(work_dir.glob('*/*.log'))
            if not marker.exists() or not logs:
                continue
            for m in progress.finditer(logs[0].read_text()):
                if int(m.group(1)) < int(m.group(2)):
                    killed_at = (int(m.group(1)), int(m.group(2)))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    names = _pth_files(work_dir)
    assert f'epoch_{EPOCHS}.pth' not in names  # it really was interrupted
    _assert_checkpoints_complete(work_dir)

    run_tool(_train_cmd(work_dir, corpus_root, '--resume'))
    final = osp.join(work_dir, f'epoch_{EPOCHS}.pth')
    _assert_checkpoints_complete(work_dir)

    # same weights as the uninterrupted run ...
    got = torch.load(final, weights_only=True)['state_dict']
    want = torch.load(baseline['ckpt'], weights_only=True)['state_dict']
    assert got.keys() == want.keys()
    for k in want:
        assert torch.equal(got[k], want[k]), k
    # ... and the same final metrics
    metrics = _test(work_dir, corpus_root, final)
    assert metrics == baseline['metrics']
