"""LOSO under failures on a shared machine: a runner killed on its own
leaves no worker training behind, one fold is never run by two processes,
Ctrl-C stops the workers, a killed write's temporary file is cleared,
``--report-only`` without finished folds says so.

Stand-in tools (``MMAKM_TOOLS``) keep these fast; the real tools under the
same failures are in docs/robustness.md ("Distributed runs and LOSO under
failures")."""
import contextlib
import io
import os
import os.path as osp
import signal
import subprocess
import sys
import threading
import time

import pytest

import loso_testlib as lib
from mmakm.loso.plan import LosoSetupError
from mmakm.loso.runner import FoldRunner, WorkDirLock, fold_finished

#: stand-in train.py: records its pid, then works for a long time unless
#: FAKE_QUICK is set; reports whether its fold dir is locked by its process
SLOW_TRAIN = '''
import argparse, os, os.path as osp, time
from mmakm.loso.plan import LosoSetupError
from mmakm.loso.runner import WorkDirLock
p = argparse.ArgumentParser()
p.add_argument('config'); p.add_argument('--work-dir')
p.add_argument('--resume', action='store_true')
a = p.parse_args()
try:
    with WorkDirLock(a.work_dir, name='.fold.lock'):
        locked = False
except LosoSetupError:
    locked = True
with open(osp.join(a.work_dir, 'pids.txt'), 'a') as f:
    f.write('%d locked=%s\\n' % (os.getpid(), locked))
if not os.environ.get('FAKE_QUICK'):
    time.sleep(120)
ck = osp.join(a.work_dir, 'epoch_1.pth')
open(ck, 'wb').write(b'weights')
open(osp.join(a.work_dir, 'last_checkpoint'), 'w').write(ck)
'''


#: a LOSO runner process over the folds of ``sys.argv[1]``
RUNNER = '''
import sys
from mmakm.loso.plan import plan_folds
from mmakm.loso.runner import FoldRunner, install_signal_handlers
folds = plan_folds(sys.argv[1], sys.argv[2:])
runner = FoldRunner(jobs=len(folds), log=print)
install_signal_handlers(runner)
runner.run(folds)
'''


@pytest.fixture
def slow_tools(tmp_path, monkeypatch):
    return lib.install_fake_tools(tmp_path, monkeypatch, SLOW_TRAIN,
                                  lib.FAKE_TEST)


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaped counts as ended)."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except FileNotFoundError:
        return False
    except OSError:  # no /proc
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _wait(predicate, timeout=60.0, what=''):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f'timed out waiting for {what}')


def _start_runner(folds, out, **popen):
    """The runner, its output (and its workers' stderr) to the file
    ``out``: a pipe would stay open as long as any worker lives."""
    return subprocess.Popen(
        [sys.executable, '-c', RUNNER, osp.dirname(folds[0].work_dir)] +
        [f.subject for f in folds], cwd=lib.REPO, env=lib.tool_env(),
        stdout=open(out, 'w'), stderr=subprocess.STDOUT, **popen)


def _training_pids(folds):
    """pid of each fold's (stand-in) training, once all have started."""
    paths = [osp.join(f.work_dir, 'pids.txt') for f in folds]
    _wait(lambda: all(osp.isfile(p) and open(p).read() for p in paths),
          what='the folds to start training')
    return [int(open(p).read().split()[0]) for p in paths]


def test_killed_runner_leaves_no_worker_behind(slow_tools, tmp_path,
                                               monkeypatch):
    folds = lib.empty_folds(tmp_path, 2)
    runner = _start_runner(folds, tmp_path / 'runner.log')
    try:
        pids = _training_pids(folds)
        # training runs in the worker, holding its fold's lock
        for f in folds:
            assert 'locked=True' in open(osp.join(f.work_dir,
                                                  'pids.txt')).read()
    finally:
        runner.kill()  # the runner alone, as the OOM killer would
        runner.wait()
    # its workers end too (they would otherwise train on, unseen, for 120 s)
    _wait(lambda: not any(map(_alive, pids)), timeout=10,
          what='the workers of the killed runner to end')
    assert not any(fold_finished(f) for f in folds)
    # a rerun trains and tests every fold
    monkeypatch.setenv('FAKE_QUICK', '1')
    status = FoldRunner(jobs=2, log=lambda m: None).run(folds)
    assert status == {f.subject: 'done' for f in folds}


@pytest.mark.parametrize('to_group', [False, True])
def test_sigint_stops_workers_cleanly(slow_tools, tmp_path, to_group):
    """Ctrl-C (SIGINT to the terminal's process group, or to the runner
    alone): the runner stops its workers and exits 130, nothing finished,
    no process left."""
    folds = lib.empty_folds(tmp_path, 2)
    runner = _start_runner(folds, tmp_path / 'runner.log',
                           start_new_session=True)
    try:
        pids = _training_pids(folds)
        if to_group:
            os.killpg(runner.pid, signal.SIGINT)
        else:
            runner.send_signal(signal.SIGINT)
        runner.wait(timeout=60)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait()
    out = (tmp_path / 'runner.log').read_text()
    assert runner.returncode == 128 + signal.SIGINT, out
    assert 'Traceback' not in out, out
    assert '[loso] SIGINT: stopping the fold processes' in out
    _wait(lambda: not any(map(_alive, pids)), timeout=10,
          what='the workers to end')
    assert not any(fold_finished(f) for f in folds)


def test_rerun_removes_the_temporary_files_of_killed_writes(
        slow_tools, tmp_path, monkeypatch):
    """A worker killed mid-write leaves ``.<name>.<random>.tmp`` (never a
    torn file under the real name); the next run of the fold removes it."""
    monkeypatch.setenv('FAKE_QUICK', '1')
    fold, = lib.empty_folds(tmp_path, 1)
    stale = osp.join(fold.work_dir, '.epoch_1.pth.k3j4x9.tmp')
    other = osp.join(fold.work_dir, 'notes.tmp')  # not one of ours
    for path in (stale, other):
        open(path, 'wb').write(b'partial')
    assert FoldRunner(log=lambda m: None).run([fold]) == {
        fold.subject: 'done'}
    assert not osp.exists(stale) and osp.exists(other)


def test_work_dir_lock_waits_then_names_the_dir(tmp_path):
    held = WorkDirLock(str(tmp_path), name='.fold.lock')
    with held:
        t0 = time.monotonic()
        with pytest.raises(LosoSetupError, match=str(tmp_path)):
            with WorkDirLock(str(tmp_path), name='.fold.lock', wait_s=0.3):
                pass
        assert time.monotonic() - t0 >= 0.3
    # a holder that lets go within wait_s is waited for
    held.__enter__()
    threading.Timer(0.2, held.__exit__).start()
    with WorkDirLock(str(tmp_path), name='.fold.lock', wait_s=10):
        pass


def test_report_only_without_finished_folds_says_so(tiny_config, tmp_path):
    sys.path.insert(0, lib.TOOLS)
    import loso
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = loso.main([tiny_config, '--work-dir', str(tmp_path / 'w'),
                        '--folds', 'sub01', '--report-only'])
    assert rc == 1
    assert err.getvalue().startswith(
        'error: no finished fold to report in ')
    assert 'casme2/sub01' in err.getvalue()
