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
