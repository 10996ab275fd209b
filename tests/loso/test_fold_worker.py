"""LOSO fold commands in reused worker processes (mmakm.loso.worker): exit
statuses and logs as from ``python TOOL``, a fold's train and test in one
process, one process per job across folds, a dead worker replaced, and the
same weights as a fresh process."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

import loso_testlib as lib
from mmakm.loso.plan import plan_folds
from mmakm.loso.runner import REPO_ROOT, FoldRunner, fold_finished

TOOL = '''
import os, sys
print('out of', sys.argv[1:])
print('err of', sys.argv[1:], file=sys.stderr)
what = sys.argv[1]
if what == 'exit3':
    sys.exit(3)
if what == 'message':
    sys.exit('error: the message')
if what == 'raise':
    raise RuntimeError('boom')
if what == 'pid':
    print('pid', os.getpid())
'''


def _worker():
    return subprocess.Popen(
        [sys.executable, '-m', 'mmakm.loso.worker'], cwd=REPO_ROOT,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT))


def _ask(proc, tool, argv, log):
    proc.stdin.write(json.dumps(dict(tool=tool, argv=argv, log=log)) + '\n')
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())['rc']


def test_worker_runs_commands_like_python(tmp_path):
    tool = tmp_path / 'tool.py'
    tool.write_text(TOOL)
    log = str(tmp_path / 'a.log')
    proc = _worker()
    try:
        assert _ask(proc, str(tool), ['ok'], log) == 0
        assert _ask(proc, str(tool), ['exit3'], log) == 3
        assert _ask(proc, str(tool), ['message'], log) == 1
        assert _ask(proc, str(tool), ['raise'], log) == 1
        assert _ask(proc, str(tool), ['pid'], log) == 0
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0  # ends at the end of its input
    text = open(log).read()
    for what in ('ok', 'exit3', 'message', 'raise'):
        assert f"out of ['{what}']" in text and f"err of ['{what}']" in text
    assert 'error: the message' in text
    assert 'RuntimeError: boom' in text and 'Traceback' in text
    assert f'pid {proc.pid}' in text  # run in the worker itself


FAKE_TRAIN = '''
import argparse, os, os.path as osp
p = argparse.ArgumentParser()
p.add_argument('config'); p.add_argument('--work-dir')
p.add_argument('--resume', action='store_true')
a = p.parse_args()
with open(osp.join(a.work_dir, 'pids.txt'), 'a') as f:
    f.write('train %d\\n' % os.getpid())
if os.environ.get('FAKE_DIE') and osp.basename(a.work_dir).endswith('s1'):
    os._exit(7)  # the worker process dies
ck = osp.join(a.work_dir, 'epoch_1.pth')
open(ck, 'wb').write(b'weights')
open(osp.join(a.work_dir, 'last_checkpoint'), 'w').write(ck)
'''
FAKE_TEST = lib.FAKE_TEST


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):  # writes pids; may kill its worker
    return lib.install_fake_tools(tmp_path, monkeypatch, FAKE_TRAIN,
                                  FAKE_TEST)


def _pids(fold):
    with open(osp.join(fold.work_dir, 'pids.txt')) as f:
        return [line.split() for line in f.read().splitlines()]


def test_folds_reuse_one_process_per_job(fake_tools, tmp_path):
    folds = lib.empty_folds(tmp_path, 5)
    status = FoldRunner(jobs=2, log=lambda m: None).run(folds)
    assert status == {f.subject: 'done' for f in folds}
    per_fold = [_pids(f) for f in folds]
    for calls in per_fold:  # train, then test, in the same process
        assert [c[0] for c in calls] == ['train', 'test']
        assert calls[0][1] == calls[1][1]
    assert len({calls[0][1] for calls in per_fold}) <= 2  # 2 jobs
    # the old way: a fresh process per command
    fresh = lib.empty_folds(tmp_path / 'fresh', 2)
    FoldRunner(log=lambda m: None, reuse_processes=False).run(fresh)
    assert all(len({c[1] for c in _pids(f)}) == 2 for f in fresh)


def test_dead_worker_fails_its_fold_only(fake_tools, tmp_path, monkeypatch):
    monkeypatch.setenv('FAKE_DIE', '1')
    folds = lib.empty_folds(tmp_path, 3)
    status = FoldRunner(jobs=1, log=lambda m: None).run(folds)
    assert status['s1'].startswith('failed') and 'exited with 7' in \
        status['s1']
    assert status['s0'] == status['s2'] == 'done'  # a new worker took over
    assert not fold_finished(folds[1])
    assert _pids(folds[0])[0][1] != _pids(folds[2])[0][1]


def test_reused_worker_trains_the_same_weights(tiny_config, tmp_path,
                                               monkeypatch):
    """A fold trained after another one in the same worker ends with the
    same weights as in a fresh process (seeds come from the config)."""
    from mmakm.engine import apply_randomness_args
    from mmakm.loso.experiment import write_fold_configs
    from mmakm.loso.plan import load_config
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    cfg = load_config(tiny_config, {'train_cfg.max_epochs': 1})
    apply_randomness_args(cfg, seed=0)

    def plan(run, subjects):
        folds = plan_folds(str(tmp_path / run), subjects)
        write_fold_configs(cfg, folds)
        for f in folds:
            os.makedirs(f.work_dir)
        return folds

    reused = FoldRunner(jobs=1, log=lambda m: None)
    first, second = plan('reused', ['casme2/sub01', 'casme2/sub02'])
    with reused._hold_worker():  # both folds in one worker
        reused.train(first)
        ckpt_reused = reused.train(second)
    reused.close()
    alone, = plan('fresh', ['casme2/sub02'])
    ckpt_fresh = FoldRunner(jobs=1, log=lambda m: None).train(alone)
    a, b = (torch.load(c, weights_only=True)['state_dict']
            for c in (ckpt_reused, ckpt_fresh))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
