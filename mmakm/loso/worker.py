"""A Python process that runs LOSO tool commands one after another.

``python -m mmakm.loso.worker`` reads one JSON request a line on stdin::

    {"tool": "/path/tools/train.py", "argv": [...], "log": "/path/train.log",
     "lock": "/path/fold_dir"}

runs the tool as ``python TOOL ARGV...`` would (``runpy``, ``__main__``),
with its stdout and stderr appended to ``log``, and answers one JSON line
``{"rc": N}`` (N as the exit status of that command would be). Torch,
mmengine and mmaction are imported once per worker instead of once per
command, and caches of the process (e.g. a device-resident corpus) serve
every fold the worker runs.

A worker ends as soon as the runner that started it is gone (``--parent
PID``): a runner killed on its own (``kill -9``, the OOM killer) must not
leave workers behind that go on training folds unseen, or a rerun would
train the same fold in two processes at once. The worker also holds an
exclusive lock on the fold dir while it runs a fold's command (``"lock"``
in the request; :class:`mmakm.loso.runner.WorkDirLock`), so two workers
never run one fold, whichever runners started them.

Between commands the worker forgets the loggers, message hubs and
visualisers the command created (mmengine keeps them by name for the life
of the process) and frees the accelerator's cached memory; every run sets
its own seeds from its config, as a fresh process would.
"""
import argparse
import gc
import json
import os
import runpy
import signal
import sys
import threading
import time
import traceback


def _exit_status(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # SystemExit('message'): as Python does
    return 1


def _managed_instances():
    """mmengine's named global instances (ManagerMixin subclasses)."""
    from mmengine.utils import ManagerMixin
    found, todo = [], list(ManagerMixin.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        found.append(cls)
    return {cls: set(cls._instance_dict) for cls in found}


def _forget_new_instances(before) -> None:
    """Drop the loggers/message hubs/visualisers a command created."""
    import logging
    for cls, names in _managed_instances().items():
        for name in names - before.get(cls, set()):
            inst = cls._instance_dict.pop(name, None)
            if isinstance(inst, logging.Logger):
                for handler in list(inst.handlers):
                    handler.close()
                    inst.removeHandler(handler)


def run_command(tool: str, argv, log_path: str) -> int:
    """Run ``python TOOL ARGV`` in this process, output appended to
    ``log_path``; returns the exit status."""
    saved = os.dup(1), os.dup(2)
    saved_argv = sys.argv
    before = _managed_instances() if 'mmengine' in sys.modules else {}
    with open(log_path, 'a') as log:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            sys.argv = [tool, *argv]
            runpy.run_path(tool, run_name='__main__')
            rc = 0
        except SystemExit as exc:
            rc = _exit_status(exc)
        except BaseException:  # noqa: BLE001  (reported in the log)
            traceback.print_exc()
            rc = 1
        finally:
            sys.argv = saved_argv
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
    _forget_new_instances(before)
    gc.collect()
    torch = sys.modules.get('torch')
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
    return rc


def run_request(request: dict) -> int:
    """:func:`run_command` of a request, under its fold's lock if it names
    one (a fold another process holds is an error in the log); the
    temporary files of writes killed mid-way are removed from the fold dir
    first."""
    tool, argv, log_path = request['tool'], request['argv'], request['log']
    if not request.get('lock'):
        return run_command(tool, argv, log_path)
    from mmakm.engine.fileio import remove_interrupted_writes
    from mmakm.loso.plan import LosoSetupError
    from mmakm.loso.runner import fold_lock
    try:
        with fold_lock(request['lock']):
            # nobody else writes there now: a *.tmp is a killed write's
            remove_interrupted_writes(request['lock'])
            return run_command(tool, argv, log_path)
    except (LosoSetupError, OSError) as exc:  # held, or not creatable
        with open(log_path, 'a') as log:
            log.write(f'error: {exc}\n')
        return 1


def exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """Kill this process once its parent ``parent`` is gone (it is then
    re-parented, so ``os.getppid()`` changes). Polling works on every POSIX
    system and, unlike ``PR_SET_PDEATHSIG``, does not fire when merely the
    runner's thread that started the worker ends."""
    def watch():
        while os.getppid() == parent:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGKILL)
    threading.Thread(target=watch, name='parent-watch', daemon=True).start()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description='LOSO fold worker')
    parser.add_argument('--parent', type=int,
                        help='end when the process with this pid is gone')
    args = parser.parse_args(argv)
    if args.parent is not None:
        exit_with_parent(args.parent)
    # answers go to a private copy of stdout; fd 1 itself only ever
    # carries the commands' output (to their logs) or nothing
    answers = os.fdopen(os.dup(1), 'w', buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        rc = run_request(request)
        answers.write(json.dumps(dict(rc=rc)) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
