"""A Python process that runs LOSO tool commands one after another.

``python -m mmakm.loso.worker`` reads one JSON request a line on stdin::

    {"tool": "/path/tools/train.py", "argv": [...], "log": "/path/train.log"}

runs the tool as ``python TOOL ARGV...`` would (``runpy``, ``__main__``),
with its stdout and stderr appended to ``log``, and answers one JSON line
``{"rc": N}`` (N as the exit status of that command would be). Torch,
mmengine and mmaction are imported once per worker instead of once per
command, and caches of the process (e.g. a device-resident corpus) serve
every fold the worker runs.

Between commands the worker forgets the loggers, message hubs and
visualisers the command created (mmengine keeps them by name for the life
of the process) and frees the accelerator's cached memory; every run sets
its own seeds from its config, as a fresh process would.
"""
import gc
import json
import os
import runpy
import sys
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


def main() -> int:
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
        rc = run_command(request['tool'], request['argv'], request['log'])
        answers.write(json.dumps(dict(rc=rc)) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
