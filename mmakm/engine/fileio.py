"""Atomic file output: a file is either complete or absent.

mmengine writes checkpoints and dumps with ``open(path, 'wb').write(...)``
straight to the final path (``LocalBackend.put``), so a process killed
mid-write (``kill -9``, OOM killer, pre-empted job) leaves a truncated file
under the final name that a later ``--resume`` or test then trips over.
Here every write goes to a hidden temporary file in the same directory,
is flushed and fsync'ed, and is then renamed over the final name with
:func:`os.replace`, which is atomic on POSIX file systems (and on Windows
for files on the same volume).

:class:`AtomicLocalBackend` is registered as the mmengine file backend
``'atomic_local'``; pass ``backend_args=dict(backend='atomic_local')`` to
anything that writes through mmengine's fileio (``CheckpointHook``,
``mmengine.dump``, ...) to make its local writes atomic.

A folder that is made as a whole (a generated corpus) is filled in a
hidden temporary sibling and renamed into place by :func:`atomic_directory`,
so a half-filled one never stands under the final name.
"""
import contextlib
import glob
import io
import json
import math
import os
import os.path as osp
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator, List, Union

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend

__all__ = [
    'atomic_write_bytes', 'atomic_write_text', 'atomic_torch_save',
    'atomic_json_dump', 'AtomicLocalBackend', 'ATOMIC_BACKEND_ARGS',
    'is_local_path', 'remove_interrupted_writes', 'atomic_directory',
    'atomic_path'
]

#: ``backend_args`` selecting :class:`AtomicLocalBackend`.
ATOMIC_BACKEND_ARGS = dict(backend='atomic_local')


def is_local_path(path: Union[str, Path, None]) -> bool:
    """Whether ``path`` is a plain local path (no ``scheme://`` prefix)."""
    return path is None or '://' not in str(path)


def _fsync_dir(dirname: str) -> None:
    """Persist a rename in ``dirname`` (best effort)."""
    try:
        fd = os.open(dirname, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    """The process' umask (read by setting it, so set it back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


@contextlib.contextmanager
def atomic_path(path: Union[str, Path], suffix: str = '.tmp') -> Iterator[str]:
    """A temporary file name next to ``path`` for a writer that takes a path
    (e.g. ``cv2.VideoWriter``, which picks the format by the extension:
    pass ``suffix='.tmp.mp4'``); renamed over ``path`` when the block ends,
    deleted when it raises. The temporary file ``.<name>.<random><suffix>``
    exists (empty) when the block starts.
    """
    path = str(path)
    dirname = osp.dirname(osp.abspath(path))
    os.makedirs(dirname, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix=suffix, dir=dirname)
    os.close(fd)
    try:
        yield tmp
        # mkstemp creates 0600 files; give the file the usual permissions.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(dirname)


def atomic_write_bytes(data: bytes, path: Union[str, Path]) -> None:
    """Write ``data`` to ``path`` so that readers never see a partial file.

    The bytes go to a temporary file ``.<name>.<random>.tmp`` next to
    ``path`` (same file system, so the final rename is atomic), which is
    flushed, fsync'ed and renamed over ``path``. If the process dies before
    the rename, ``path`` keeps its previous content (or stays absent) and
    only the hidden ``*.tmp`` file is left behind.
    """
    with atomic_path(path) as tmp:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def remove_interrupted_writes(dirname: Union[str, Path]) -> List[str]:
    """Delete the temporary files that :func:`atomic_write_bytes` calls
    killed mid-write left in ``dirname`` (``.<name>.<random>.tmp``).

    Only while no process writes into ``dirname`` (e.g. under a lock on
    it): a running write's temporary file looks the same. Returns the
    removed paths.
    """
    removed = []
    pattern = osp.join(glob.escape(str(dirname)), '.*.tmp')
    # also the .<name>.<random>.tmp.<ext> files of atomic_path
    for path in sorted(glob.glob(pattern) + glob.glob(pattern + '.*')):
        try:
            os.remove(path)
        except OSError:
            continue
        removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_directory(path: Union[str, Path]) -> Iterator[str]:
    """Fill a folder that then appears at ``path`` complete, or not at all.

    Yields a new hidden temporary folder ``.<name>.tmp-<random>`` next to
    ``path`` (same file system) to write into. When the block ends, the
    folder is renamed to ``path``; an existing ``path`` is moved aside
    first and deleted afterwards. When the block raises, ``path`` is left
    as it was and the temporary folder is deleted; after a kill only the
    hidden temporary folder stays, which nothing reads.
    """
    path = osp.abspath(str(path))
    parent = osp.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(path)}.tmp-', dir=parent)
    try:
        # mkdtemp creates 0700 folders; give the folder the usual mode
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        if osp.lexists(path):
            old = f'{tmp}.old'
            os.rename(path, old)
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(parent)


def atomic_write_text(text: str,
                      path: Union[str, Path],
                      encoding: str = 'utf-8') -> None:
    """Text counterpart of :func:`atomic_write_bytes`."""
    atomic_write_bytes(text.encode(encoding), path)


def atomic_torch_save(obj: Any, path: Union[str, Path]) -> None:
    """``torch.save(obj, path)``, atomically."""
    with io.BytesIO() as buf:
        torch.save(obj, buf)
        atomic_write_bytes(buf.getvalue(), path)


def _to_jsonable(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f'{type(obj).__name__} is not JSON serialisable')


def _strict(obj: Any) -> Any:
    """Containers converted, NaN/inf floats replaced by None (strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [_strict(v) for v in obj]
    if isinstance(obj, (np.ndarray, np.generic, torch.Tensor)):
        return _strict(_to_jsonable(obj))
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def atomic_json_dump(obj: Any,
                     path: Union[str, Path],
                     indent: int = 2) -> None:
    """Dump ``obj`` as strict JSON (numpy/torch values converted, NaN and
    inf written as null), atomically."""
    text = json.dumps(_strict(obj), indent=indent, default=_to_jsonable,
                      allow_nan=False)
    atomic_write_text(text + '\n', path)


@register_backend('atomic_local', force=True)
class AtomicLocalBackend(LocalBackend):
    """mmengine ``LocalBackend`` whose writes are atomic (temp + rename)."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write_text(obj, filepath, encoding=encoding)
