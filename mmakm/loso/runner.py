"""Run LOSO folds: ``tools/train.py``, then ``tools/test.py``, per fold.

The tools run in worker processes (:mod:`mmakm.loso.worker`), one per job,
each reused for fold after fold: a fold's training and test share one
process, and torch/mmengine/mmaction are imported once per job, not twice
per fold. ``FoldRunner(reuse_processes=False)`` runs every command in a
fresh ``python TOOL ...`` process instead.

State on disk (per fold work dir ``<work_dir>/fold_<subject>``; the fold's
config is ``<work_dir>/fold_configs/fold_<subject>.py``):

* ``last_checkpoint``  written by mmengine's CheckpointHook; an interrupted
  fold resumes from it (``--resume``);
* ``train_done.json``  training finished (names the last checkpoint);
* ``predictions.pkl``  the fold is finished: the test dump, moved into
  place atomically once ``tools/test.py`` has succeeded;
* ``.fold.lock``  locked by the process running the fold's command
  (:func:`fold_lock`), so no two processes ever run one fold.

A rerun skips finished folds without touching them, tests a trained fold
without retraining it, and resumes an interrupted training.
"""
import fcntl
import json
import os
import queue
import os.path as osp
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Callable, Dict, List, Optional, Sequence

from mmakm.engine import atomic_json_dump, find_resume_checkpoint
from .plan import Fold, LosoSetupError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class FoldError(RuntimeError):
    pass


def tool_path(name: str) -> str:
    """``tools/<name>`` of this checkout (override: env ``MMAKM_TOOLS``)."""
    root = os.environ.get('MMAKM_TOOLS', osp.join(REPO_ROOT, 'tools'))
    path = osp.join(root, name)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} not found: run from an mmakm checkout or set MMAKM_TOOLS')
    return path


def fold_finished(fold: Fold) -> bool:
    return osp.isfile(fold.predictions)


def _checkpoint_ok(path: str) -> bool:
    try:
        return osp.isfile(path) and osp.getsize(path) > 0
    except OSError:
        return False


def trained_checkpoint(fold: Fold) -> Optional[str]:
    """The final checkpoint of a finished training, else None."""
    if not osp.isfile(fold.train_done):
        return None
    with open(fold.train_done) as f:
        ckpt = json.load(f).get('checkpoint')
    return ckpt if ckpt and _checkpoint_ok(ckpt) else None


#: thread-count variables of the math libraries torch may use
THREAD_VARS = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS')


def fold_threads(threads: Optional[int] = None) -> int:
    """Torch threads of each fold process.

    ``threads`` if given (``tools/loso.py --threads``), else the user's
    ``OMP_NUM_THREADS``, else 1: one thread per fold is the documented
    default because it is bit-reproducible on CPU (several threads split
    reductions, e.g. oneDNN's convolution weight gradients, differently
    from run to run); use ``--jobs`` for parallelism.
    """
    if threads is not None:
        if int(threads) < 1:
            raise ValueError(f'threads must be >= 1, got {threads}')
        return int(threads)
    env = os.environ.get('OMP_NUM_THREADS', '').strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f'OMP_NUM_THREADS={env!r} is not a number of '
                             'threads') from None
    return 1


def fold_throughput(durations: Sequence[float], wall_s: float,
                    jobs: int) -> dict:
    """Fold throughput of a run: folds finished per hour of wall time and
    the mean time of one fold (which grows when jobs share a device)."""
    n = len(durations)
    return dict(folds=n, jobs=jobs, wall_s=wall_s,
                folds_per_hour=3600.0 * n / wall_s if n and wall_s else 0.0,
                mean_fold_s=sum(durations) / n if n else 0.0)


class FoldRunner:
    """Runs folds (train, then test) in up to ``jobs`` parallel processes,
    each with :func:`fold_threads` torch threads.

    The seed and other randomness settings are part of each fold's config
    (``mmakm.loso.experiment.write_fold_configs``), not of the command.
    With ``reuse_processes`` (default) each job keeps one worker process
    for all its folds (:mod:`mmakm.loso.worker`).
    """

    def __init__(self, jobs: int = 1, threads: Optional[int] = None,
                 python: str = sys.executable,
                 log: Callable[[str], None] = print,
                 reuse_processes: bool = True):
        self.jobs = max(1, int(jobs))
        self.threads = fold_threads(threads)
        self.python = python
        self.log = log
        self.reuse_processes = reuse_processes
        self._procs = set()
        self._lock = threading.Lock()
        self._stopping = False
        self._idle: 'queue.SimpleQueue[subprocess.Popen]' = queue.SimpleQueue()
        self._workers = 0
        self._local = threading.local()
        self.timing: dict = fold_throughput([], 0.0, self.jobs)

    # ------------------------------------------------------------ processes
    def _env(self) -> Dict[str, str]:
        env = dict(os.environ)
        for var in THREAD_VARS:
            env[var] = str(self.threads)
        env.setdefault('PYTHONUNBUFFERED', '1')
        # the tools import mmakm from this checkout even if not installed
        env['PYTHONPATH'] = os.pathsep.join(
            p for p in (REPO_ROOT, env.get('PYTHONPATH')) if p)
        return env

    def _start(self, cmd: List[str], **kwargs) -> subprocess.Popen:
        with self._lock:
            if self._stopping:
                raise FoldError('stopped')
            proc = subprocess.Popen(cmd, env=self._env(), cwd=REPO_ROOT,
                                    **kwargs)
            self._procs.add(proc)
        return proc

    def _forget(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._procs.discard(proc)

    def _run(self, cmd: List[str], fold: Fold, log_name: str) -> None:
        """Run ``python TOOL ARGS...`` (``cmd``) for ``fold``, output
        appended to ``<fold dir>/<log_name>``, under the fold's lock
        (:func:`fold_lock`); :class:`FoldError` with the log's tail if it
        fails."""
        log_path = osp.join(fold.work_dir, log_name)
        with open(log_path, 'a') as logf:
            logf.write(f'\n$ {" ".join(cmd)}\n')
        if self.reuse_processes:  # the worker holds the lock
            rc = self._run_in_worker(cmd[1], cmd[2:], log_path,
                                     fold.work_dir)
        else:
            with fold_lock(fold.work_dir), open(log_path, 'a') as logf:
                proc = self._start(cmd, stdout=logf, stderr=subprocess.STDOUT)
                try:
                    rc = proc.wait()
                finally:
                    self._forget(proc)
        if rc != 0:
            raise FoldError(f'{" ".join(cmd[1:3])} {_exit_reason(rc)}; see '
                            f'{log_path}:\n{_tail(log_path)}')

    # -------------------------------------------------------------- workers
    def _acquire_worker(self) -> subprocess.Popen:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            start = self._workers < self.jobs
            if start:
                self._workers += 1
        if not start:  # all busy: wait for one
            return self._idle.get()
        try:
            # --parent: the worker ends if this process is killed
            return self._start([self.python, '-m', 'mmakm.loso.worker',
                                '--parent', str(os.getpid())],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, bufsize=1)
        except BaseException:
            with self._lock:
                self._workers -= 1
            raise

    def _release_worker(self, proc: Optional[subprocess.Popen]) -> None:
        if proc is not None:
            self._idle.put(proc)
        else:  # it died: another may be started in its place
            with self._lock:
                self._workers -= 1

    def _run_in_worker(self, tool: str, argv: List[str], log_path: str,
                       lock: str) -> int:
        held = getattr(self._local, 'worker', None)
        proc = held if held is not None else self._acquire_worker()
        rc = _ask_worker(proc, dict(tool=tool, argv=argv, log=log_path,
                                    lock=lock))
        if rc is None:  # the worker died (killed, out of memory...)
            self._forget(proc)
            rc = proc.wait()
            if held is not None:
                self._local.worker = None
            proc = None
        if held is None:
            self._release_worker(proc)
        return rc

    def _hold_worker(self):
        """Context: the calling thread's commands share one worker."""
        runner = self

        class _Hold:
            def __enter__(self):
                if runner.reuse_processes:
                    runner._local.worker = runner._acquire_worker()

            def __exit__(self, *exc):
                if runner.reuse_processes:
                    proc, runner._local.worker = runner._local.worker, None
                    runner._release_worker(proc)
        return _Hold()

    def close(self) -> None:
        """End the idle workers (they exit at the end of their input)."""
        while True:
            try:
                proc = self._idle.get_nowait()
            except queue.Empty:
                break
            with self._lock:
                self._workers -= 1
            proc.stdin.close()
            proc.wait()
            self._forget(proc)

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001  (interpreter shutdown)
            pass

    def terminate(self) -> None:
        """Stop every running fold process (e.g. on SIGTERM)."""
        with self._lock:
            self._stopping = True
            procs = list(self._procs)
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()

    # ---------------------------------------------------------------- folds
    def train(self, fold: Fold) -> str:
        ckpt = trained_checkpoint(fold)
        if ckpt:
            return ckpt
        cmd = [self.python, tool_path('train.py'), fold.config_path,
               '--work-dir', fold.work_dir]
        if find_resume_checkpoint(fold.work_dir):
            cmd += ['--resume']
        self._run(cmd, fold, 'train.log')
        ckpt = find_resume_checkpoint(fold.work_dir)
        if ckpt is None:
            raise FoldError(f'{fold.name}: training wrote no checkpoint')
        atomic_json_dump(dict(checkpoint=ckpt), fold.train_done)
        return ckpt

    def test(self, fold: Fold, ckpt: str) -> None:
        tmp = osp.join(fold.work_dir, 'predictions.partial.pkl')
        if osp.exists(tmp):
            os.remove(tmp)
        cmd = [self.python, tool_path('test.py'), fold.config_path, ckpt,
               '--work-dir', fold.work_dir, '--dump', tmp]
        self._run(cmd, fold, 'test.log')
        from .report import load_predictions
        try:  # complete and readable before it counts
            load_predictions(tmp)
        except ValueError as exc:
            raise FoldError(f'{fold.name}: {exc}') from None
        os.replace(tmp, fold.predictions)  # tools/test.py fsync'ed it

    def run_fold(self, fold: Fold) -> str:
        if fold_finished(fold):
            return 'skipped'
        os.makedirs(fold.work_dir, exist_ok=True)
        with self._hold_worker():  # training and test in one process
            self.test(fold, self.train(fold))
        return 'done'

    def run(self, folds: Sequence[Fold]) -> Dict[str, str]:
        """Run every unfinished fold; returns ``{subject: status}``.

        Status: 'skipped' (finished before), 'done', or the error text.
        """
        total = len(folds)
        status = {f.subject: 'skipped' for f in folds if fold_finished(f)}
        todo = [f for f in folds if f.subject not in status]
        self.log(f'[loso] {total} folds: {len(status)} already finished, '
                 f'{len(todo)} to run, {self.jobs} in parallel '
                 f'({self.threads} torch thread(s) each)')
        start = time.time()
        n_done = len(status)
        durations = []
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            futures = {}
            for f in todo:
                futures[pool.submit(self._timed, f)] = f
            for fut in as_completed(futures):
                f = futures[fut]
                n_done += 1
                try:
                    result, seconds = fut.result()
                    status[f.subject] = result
                    durations.append(seconds)
                    msg = f'done in {seconds:.0f}s'
                except Exception as e:  # noqa: BLE001  (reported below)
                    status[f.subject] = f'failed: {e}'
                    msg = f'FAILED: {e}'
                remaining = total - n_done
                eta = ''
                if durations and remaining:
                    per = sum(durations) / len(durations)
                    eta = (f', ETA {per * remaining / min(self.jobs, remaining):.0f}s')
                self.log(f'[loso] fold {n_done}/{total} {f.subject}: {msg} '
                         f'(elapsed {time.time() - start:.0f}s{eta})')
        self.close()
        self.timing = fold_throughput(durations, time.time() - start,
                                      self.jobs)
        if durations:
            self.log(f"[loso] {len(durations)} fold(s) in "
                     f"{self.timing['wall_s']:.1f}s with {self.jobs} "
                     f"job(s): {self.timing['folds_per_hour']:.1f} folds/h, "
                     f"{self.timing['mean_fold_s']:.1f}s a fold")
        return status

    def _timed(self, fold: Fold):
        t0 = time.time()
        return self.run_fold(fold), time.time() - t0


def _ask_worker(proc: subprocess.Popen, request: dict) -> Optional[int]:
    """Send one request to a worker; its exit status, None if it died."""
    try:
        proc.stdin.write(json.dumps(request) + '\n')
        proc.stdin.flush()
        answer = proc.stdout.readline()
    except (BrokenPipeError, OSError):
        return None
    return json.loads(answer)['rc'] if answer else None


def _exit_reason(rc: int) -> str:
    """``exited with N``, or the signal that ended the process."""
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = f'signal {-rc}'
        return f'was killed by {name}'
    return f'exited with {rc}'


def _tail(path: str, lines: int = 25) -> str:
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''


class WorkDirLock:
    """Exclusive lock on a work dir: two runs must not share a LOSO work
    dir, two processes must not run one fold.

    ``flock`` is released by the kernel when the holder dies, so a killed
    run never leaves a stale lock behind.

    Args:
        work_dir: the directory; the lock file ``<work_dir>/<name>`` is
            created in it.
        name: lock file name.
        wait_s: how long to wait for the holder to let go (e.g. a process
            that is ending) before giving up.
        busy: what :class:`LosoSetupError` says when it stays locked
            (``{dir}`` is replaced by the directory).
    """

    def __init__(self, work_dir: str, name: str = '.loso.lock',
                 wait_s: float = 0.0,
                 busy: str = 'another LOSO run is using {dir}'):
        os.makedirs(work_dir, exist_ok=True)
        self.path = osp.join(work_dir, name)
        self.wait_s = wait_s
        self.busy = busy
        self._fd = None

    def __enter__(self):
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(self._fd)
                    raise LosoSetupError(self.busy.format(
                        dir=osp.dirname(self.path))) from None
                time.sleep(0.1)

    def __exit__(self, *exc):
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def fold_lock(fold_dir: str) -> WorkDirLock:
    """The lock held by the process that runs a fold's command. A process
    that is still ending (a worker whose runner was killed ends within a
    second) is waited for."""
    return WorkDirLock(fold_dir, name='.fold.lock', wait_s=30.0,
                       busy='{dir} is being trained or tested by another '
                       'process; wait for it to end, or stop it')


def install_signal_handlers(runner: FoldRunner) -> None:
    """On SIGTERM/SIGINT stop the fold processes too, then exit
    (128 + the signal's number)."""
    def handler(signum, frame):
        runner.log(f'[loso] {signal.Signals(signum).name}: stopping the '
                   'fold processes; finished folds are kept, the same '
                   'command resumes the others')
        runner.terminate()
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
