"""Read prediction pickles without running code from them.

``tools/test.py --dump`` writes a pickle (mmengine's ``DumpResults``) of
plain dicts holding numbers, strings, numpy arrays and torch tensors. Such
files are shared (e.g. with a paper's supplement), and a plain
``pickle.load`` of a crafted file runs arbitrary code. :func:`safe_load`
resolves only the globals those dumps need; anything else (``os.system``,
``builtins.eval``, ``subprocess.Popen``, any project class ...) is refused
with :class:`UnsafePickleError`.
"""
import _compat_pickle
import io
import os
import pickle
from typing import Any

__all__ = ['UnsafePickleError', 'SafeUnpickler', 'safe_load']


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """The pickle asks for a global outside the allowlist."""


def _load_storage_from_bytes(data: bytes):
    """``torch.storage._load_from_bytes`` with torch's weights-only loader
    (the original calls ``torch.load(weights_only=False)``)."""
    import torch
    return torch.load(io.BytesIO(data), weights_only=True)


def _allowed_globals() -> dict:
    """``{(module, name): object}`` of everything a dump may reference."""
    import codecs
    import collections

    import numpy as np
    allowed = {
        ('collections', 'OrderedDict'): collections.OrderedDict,
        ('builtins', 'set'): set,
        ('builtins', 'frozenset'): frozenset,
        ('builtins', 'slice'): slice,
        ('builtins', 'complex'): complex,
        ('builtins', 'bytearray'): bytearray,
        # numpy < 2 pickles bytes of protocol-2 dumps through codecs.encode
        ('_codecs', 'encode'): codecs.encode,
        ('codecs', 'encode'): codecs.encode,
    }
    for mod in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed[(mod, '_reconstruct')] = np.core.multiarray._reconstruct
        allowed[(mod, 'scalar')] = np.core.multiarray.scalar
    allowed[('numpy', 'ndarray')] = np.ndarray
    allowed[('numpy', 'dtype')] = np.dtype
    for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
              np.uint16, np.uint32, np.uint64, np.float16, np.float32,
              np.float64, np.complex64, np.complex128):
        dtype_cls = type(np.dtype(t))  # numpy >= 1.25: numpy.dtypes.*DType
        allowed[(dtype_cls.__module__, dtype_cls.__name__)] = dtype_cls
    try:
        import torch
        import torch._utils
    except ImportError:  # pragma: no cover  (torch is a dependency)
        return allowed
    allowed.update({
        ('torch._utils', '_rebuild_tensor'): torch._utils._rebuild_tensor,
        ('torch._utils', '_rebuild_tensor_v2'):
            torch._utils._rebuild_tensor_v2,
        ('torch.storage', '_load_from_bytes'): _load_storage_from_bytes,
        ('torch', 'Size'): torch.Size,
        ('torch', 'device'): torch.device,
    })
    for name in dir(torch):
        if isinstance(getattr(torch, name, None), torch.dtype):
            allowed[('torch', name)] = getattr(torch, name)
    return allowed


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that resolves only allowlisted globals."""

    _allowed = None

    def find_class(self, module: str, name: str) -> Any:
        if SafeUnpickler._allowed is None:
            SafeUnpickler._allowed = _allowed_globals()
        # Python 2 names (``__builtin__.set``) of protocol 0-2 pickles
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        try:
            return SafeUnpickler._allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f'refused to load {module}.{name}: a prediction file may '
                'hold only numbers, strings, containers, numpy arrays and '
                'torch tensors') from None


def safe_load(path: str) -> Any:
    """Unpickle ``path`` with :class:`SafeUnpickler`.

    Raises:
        UnsafePickleError: the file references a disallowed global (e.g. a
            crafted file that would call ``os.system``); names the file.
        ValueError: the file is empty, truncated or not a pickle; names
            the file.
    """
    with open(path, 'rb') as f:
        try:
            return SafeUnpickler(f).load()
        except UnsafePickleError as exc:
            raise UnsafePickleError(f'{path}: {exc}') from None
        except EOFError:
            what = 'empty' if os.path.getsize(path) == 0 else 'truncated'
            raise ValueError(f'{path}: {what} prediction file') from None
        except (pickle.UnpicklingError, ValueError, TypeError,
                AttributeError, IndexError, KeyError) as exc:
            if 'truncated' in str(exc):
                raise ValueError(f'{path}: truncated prediction file') \
                    from None
            raise ValueError(f'{path}: not a readable prediction pickle '
                             f'({type(exc).__name__}: {exc})') from None
