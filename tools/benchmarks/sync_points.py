"""Count the operations that make the host wait for the device.

On a GPU, reading a tensor's value on the host (``.item()``, ``.tolist()``,
``.cpu()``, ``bool()``/``int()``/``float()`` of a tensor), shapes that
depend on values (boolean-mask indexing, ``nonzero``, ``repeat_interleave``
without ``output_size``, ``unique``) and blocking host -> device copies
each drain the GPU's queue of kernels. :class:`SyncCounter` patches those
entry points of ``torch.Tensor``/``torch`` and counts the calls by the
first call site outside torch, so the same count can be taken on CPU,
where nothing waits: it lists where a CUDA run would synchronise.

Tensors that already live on the host (e.g. a data sample's metadata)
never make a GPU wait; on CPU they are counted too, so read the call sites.
"""
import collections
import os.path as osp
import sys
from contextlib import contextmanager

import torch

_TORCH_DIR = osp.dirname(torch.__file__)
_THIS_FILE = osp.abspath(__file__)
_TENSOR_METHODS = ('item', 'tolist', 'cpu', 'numpy', '__bool__', '__int__',
                   '__float__', 'nonzero', 'unique')
_TORCH_FUNCS = ('nonzero', 'unique', 'masked_select')


def _call_site() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if not path.startswith(_TORCH_DIR) and \
                osp.abspath(path) != _THIS_FILE:
            return f'{_short(path)}:{frame.f_lineno} ({frame.f_code.co_name})'
        frame = frame.f_back
    return '?'


def _short(path: str) -> str:
    for marker in ('site-packages/', 'mmakm/', 'tools/'):
        i = path.rfind(marker)
        if i >= 0:
            return path[i:] if marker != 'site-packages/' else path[
                i + len(marker):]
    return path


class SyncCounter:
    """Counts host-device synchronisation points while :meth:`active`.

    ``counts[(op, call_site)]`` is the number of calls.
    """

    def __init__(self):
        self.counts = collections.Counter()
        self._on = False

    def _wrap(self, name, fn):
        counter = self

        def wrapper(*args, **kwargs):
            if counter._on:
                op = name
                if name == 'repeat_interleave':
                    repeats = args[1] if len(args) > 1 else kwargs.get(
                        'repeats')
                    if not isinstance(repeats, torch.Tensor) or \
                            kwargs.get('output_size') is not None:
                        return fn(*args, **kwargs)
                elif name == '__getitem__':
                    index = args[1]
                    items = index if isinstance(index, tuple) else (index, )
                    if not any(isinstance(i, torch.Tensor)
                               and i.dtype == torch.bool for i in items):
                        return fn(*args, **kwargs)
                    op = 'mask index'
                elif name in ('to', 'copy_'):
                    if kwargs.get('non_blocking'):
                        return fn(*args, **kwargs)
                    op = f'{name} (blocking copy)'
                counter.counts[(op, _call_site())] += 1
            return fn(*args, **kwargs)

        return wrapper

    @contextmanager
    def patched(self):
        """Install the counting wrappers (counting only while active)."""
        saved = []
        for name in _TENSOR_METHODS + ('__getitem__', 'repeat_interleave'):
            saved.append((torch.Tensor, name, getattr(torch.Tensor, name)))
        for name in _TORCH_FUNCS + ('repeat_interleave', ):
            saved.append((torch, name, getattr(torch, name)))
        try:
            for owner, name, fn in saved:
                setattr(owner, name, self._wrap(name, fn))
            yield self
        finally:
            for owner, name, fn in saved:
                setattr(owner, name, fn)

    @contextmanager
    def active(self):
        self._on = True
        try:
            yield self
        finally:
            self._on = False

    def table(self, iterations: int, top: int = 40) -> list:
        """Rows ``(op, call site, calls per iteration)``, most first."""
        n = max(1, iterations)
        return [dict(op=op, site=site, per_iter=count / n)
                for (op, site), count in self.counts.most_common(top)]

    def per_iter(self, iterations: int) -> float:
        return sum(self.counts.values()) / max(1, iterations)
