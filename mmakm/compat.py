"""Make the pinned OpenMMLab stack sound before anything else imports it.

Three defects of the stack are mended here, once, at ``import mmakm``:

* The mmaction2 1.2.0 wheel lacks ``mmaction/models/localizers/drn/``
  (open-mmlab/mmaction2#2714), so ``import mmaction.models`` fails and, with
  ``default_scope='mmaction'``, so does building any model. A stand-in module
  is registered in :data:`sys.modules` when (and only when) the real one is
  missing.
* torch >= 2.6 loads checkpoints with ``weights_only=True``; mmengine
  checkpoints pickle a few harmless non-tensor objects (``HistoryBuffer``,
  numpy arrays and scalars), so resume/test/inference fail
  (open-mmlab/mmengine#1655). Instead of turning the safe loader off, the
  exact classes mmengine writes are added to torch's allowlist, and
  ``HistoryBuffer`` stops pickling its built-in statistics methods (they are
  pickled as ``getattr(HistoryBuffer, 'mean')``, and allowing ``getattr``
  would let a checkpoint run arbitrary code).
* mmaction2 1.2.0 imports its VindLU (multi-modal) models whenever
  ``transformers >= 4.28`` is installed, and they import names that
  transformers 5 removed (``modeling_utils.apply_chunking_to_forward``), so
  ``import mmaction.models`` fails next to transformers 5. There the
  multi-modal models are switched off (registered as placeholders that ask
  for a compatible transformers), as when transformers is absent.
"""
import importlib
import importlib.util
import os.path as osp
import sys
import types

import torch

_DRN_MODULE = 'mmaction.models.localizers.drn'


class _MissingDRN(torch.nn.Module):
    """Stand-in for the DRN localizer that the mmaction2 wheel does not ship."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            'DRN is missing from the installed mmaction2 package '
            '(open-mmlab/mmaction2#2714); install mmaction2 from source to '
            'use it.')


def patch_missing_drn() -> bool:
    """Register a stand-in for ``mmaction.models.localizers.drn`` if absent.

    Returns:
        bool: True if the stand-in was installed, False if not needed.
    """
    if _DRN_MODULE in sys.modules:
        return False
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return False
    pkg_dir = list(spec.submodule_search_locations)[0]
    if osp.isdir(osp.join(pkg_dir, 'models', 'localizers', 'drn')):
        return False
    package = types.ModuleType(_DRN_MODULE)
    package.__path__ = []  # mark as a package so ``.drn.drn`` resolves
    module = types.ModuleType(_DRN_MODULE + '.drn')
    module.DRN = _MissingDRN
    package.drn = module
    sys.modules[_DRN_MODULE] = package
    sys.modules[_DRN_MODULE + '.drn'] = module
    return True


def skip_incompatible_multimodal() -> bool:
    """Switch mmaction's VindLU models off next to transformers >= 5.

    Returns:
        bool: True if they were switched off.
    """
    if 'mmaction.models.multimodal' in sys.modules:
        return False
    from importlib.metadata import PackageNotFoundError, version
    try:
        major = int(version('transformers').split('.')[0])
    except (PackageNotFoundError, ValueError):
        return False
    if major < 5:
        return False
    import mmaction.utils.dependency as dependency
    dependency.WITH_MULTIMODAL = False
    return True


def _checkpoint_safe_globals() -> list:
    """Classes mmengine 0.10 pickles into checkpoints besides tensors."""
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer
    import codecs
    # numpy 2 renamed np.core to np._core (np.core: deprecated alias)
    multiarray = importlib.import_module(
        'numpy._core.multiarray' if int(np.__version__.split('.')[0]) >= 2
        else 'numpy.core.multiarray')
    safe = [HistoryBuffer, np.ndarray, np.dtype, multiarray._reconstruct,
            multiarray.scalar, codecs.encode]
    # numpy >= 1.25 pickles dtypes by their class (e.g. Float64DType)
    safe += [type(np.dtype(t)) for t in
             (np.float64, np.float32, np.float16, np.int64, np.int32,
              np.int16, np.int8, np.uint8, np.bool_)]
    return safe


def _history_buffer_getstate(self) -> dict:
    """``HistoryBuffer.__getstate__`` without the built-in methods.

    Only methods registered by users (``register_statistics``) are pickled;
    the built-in ones are re-attached by ``HistoryBuffer.__init__`` anyway.
    """
    state = dict(self.__dict__)
    state.pop('statistics_methods', None)
    custom = {
        name: method
        for name, method in type(self)._statistics_methods.items()
        if name not in _BUILTIN_STATISTICS
    }
    if custom:
        state['statistics_methods'] = custom
    return state


_BUILTIN_STATISTICS = ('min', 'max', 'current', 'mean')


def allow_mmengine_checkpoints() -> None:
    """Let ``torch.load(weights_only=True)`` read mmengine checkpoints."""
    from mmengine.logging.history_buffer import HistoryBuffer
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:  # torch < 2.4 has no weights_only default to fix
        add(_checkpoint_safe_globals())


def apply() -> None:
    """Apply every fix; idempotent."""
    patch_missing_drn()
    skip_incompatible_multimodal()
    allow_mmengine_checkpoints()
