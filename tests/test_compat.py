"""The stack fixes applied by ``import mmakm`` (see mmakm/compat.py)."""
import os
import pickle

import numpy as np
import pytest
import torch

import mmakm  # noqa: F401  (applies the fixes)
from mmakm import compat


def test_mmaction_models_import_and_build():
    import mmaction.models  # noqa: F401  (fails without the DRN stand-in)
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(
            dict(type='Recognizer2D',
                 backbone=dict(type='ResNet', depth=18, pretrained=None),
                 cls_head=dict(type='TSNHead', num_classes=3,
                               in_channels=512)))
    assert type(model).__name__ == 'Recognizer2D'


def test_drn_stand_in_is_explicit():
    from mmaction.models.localizers import DRN
    with pytest.raises(NotImplementedError, match='DRN'):
        DRN()
    assert compat.patch_missing_drn() is False  # idempotent


def _mmengine_style_checkpoint(path):
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('compat_test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/lr', np.float64(0.1))
    hub.update_info('iter', 3)
    ckpt = dict(
        meta=dict(epoch=1, seed=np.int64(3), dataset_meta=dict(classes=('a', 'b'))),
        state_dict={'w': torch.ones(2)},
        message_hub=hub.state_dict(),
        optimizer={'state': {}, 'param_groups': [{'lr': 0.1}]})
    torch.save(ckpt, path)


def test_mmengine_checkpoint_loads_with_weights_only(tmp_path):
    from mmengine.logging import MessageHub
    from mmengine.runner.checkpoint import _load_checkpoint
    path = str(tmp_path / 'epoch_1.pth')
    _mmengine_style_checkpoint(path)
    # the default of torch >= 2.6 is weights_only=True; ask for it explicitly
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    assert ckpt['meta']['seed'] == 3
    ckpt = _load_checkpoint(path, map_location='cpu')
    hub = MessageHub.get_instance('compat_test_resumed')
    hub.load_state_dict(ckpt['message_hub'])
    assert hub.get_scalar('train/loss').current() == 1.5
    assert hub.get_scalar('train/loss').mean() == 1.5


class _Exploit:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_unsafe_pickles_are_still_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'x': _Exploit()}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, map_location='cpu', weights_only=True)


_TRANSFORMERS_5 = '''
import importlib.metadata as md
real = md.version
md.version = lambda name: '5.17.0' if name == 'transformers' else real(name)
import mmakm  # noqa: F401
import mmaction.models  # noqa: F401
from mmaction.registry import MODELS
from mmaction.utils import dependency
assert dependency.WITH_MULTIMODAL is False
try:
    MODELS.get('VindLUVQA')()
except ImportError as exc:
    assert 'multi-modal' in str(exc), exc
else:
    raise AssertionError('the VindLU placeholder did not refuse')
print('ok')
'''


def test_multimodal_models_off_next_to_transformers_5():
    """mmaction2 1.2.0's VindLU imports fail with transformers 5: they are
    switched off (placeholders) so that mmaction.models still imports."""
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, '-c', _TRANSFORMERS_5],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == 'ok', proc.stderr
    assert compat.skip_incompatible_multimodal() is False  # already imported
