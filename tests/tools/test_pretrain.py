"""Macro-expression pretraining: the configs, a tiny end-to-end run on the
synthetic stills that exports the backbone, and the ME configs taking it by
path."""
import glob
import os.path as osp
import runpy
import sys

import pytest
import torch

import mmakm  # noqa: F401  (before Config.fromfile)
import mmakm.engine  # noqa: F401
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmaction.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS
from mmakm.datasets.macro.synthetic_stills import make_synthetic_stills
from mmakm.models.backbones.frame_resnet import FrameResNet

from tools_testlib import REPO, run_tool

PRETRAIN = sorted(glob.glob(osp.join(REPO, 'configs', 'pretrain',
                                     'frameresnet_*.py')))


def test_pretraining_configs_exist():
    names = {osp.basename(p) for p in PRETRAIN}
    assert {'frameresnet_affectnet4.py', 'frameresnet_rafdb4.py',
            'frameresnet_fer2013_4.py', 'frameresnet_stills4.py'} <= names


@pytest.mark.parametrize('path', PRETRAIN, ids=osp.basename)
def test_pretraining_config_builds(path):
    cfg = Config.fromfile(path)
    init_default_scope('mmaction')
    model = MODELS.build(cfg.model)
    assert type(model.backbone).__name__ == 'FrameResNet'
    assert cfg.model.cls_head.num_classes == 4
    assert 'BackboneExportHook' in [h['type'] for h in cfg.custom_hooks]
    assert HOOKS.get('BackboneExportHook') is not None
    assert METRICS.get(cfg.val_evaluator['type']) is not None
    for key in ('train_dataloader', 'val_dataloader'):
        ds = cfg[key]['dataset']
        assert DATASETS.get(ds['type']) is not None
        assert ds['class_setup'] == 'paper4'
        assert ds['pipeline'][0] == dict(type='LoadFaceImage')
        for t in ds['pipeline']:
            assert TRANSFORMS.get(t['type']) is not None, t
    assert cfg.val_dataloader.dataset.get('test_mode') is True
    if 'affectnet' in path:  # the paper: 1000 images per class, seeded
        assert cfg.train_dataloader.dataset.per_class == 1000
        assert cfg.train_dataloader.dataset.ann_file == 'training.csv'
        assert cfg.val_dataloader.dataset.ann_file == 'validation.csv'


def test_pretrain_exports_backbone_that_me_configs_load(tmp_path, monkeypatch):
    root = make_synthetic_stills(str(tmp_path / 'stills'), seed=0,
                                 per_class=4, test_per_class=1, size=64)
    work = str(tmp_path / 'work')
    run_tool([
        'tools/train.py', 'configs/pretrain/frameresnet_stills4.py',
        '--work-dir', work, '--cfg-options',
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'train_dataloader.batch_size=8', 'model.backbone.base_channels=8',
        'model.cls_head.in_channels=64'
    ], timeout=300)
    exported = torch.load(osp.join(work, 'backbone.pth'), map_location='cpu')
    state = exported['state_dict']
    assert exported['meta']['classes'] == ('positive', 'negative',
                                           'surprise', 'others')
    assert 'conv1.weight' in state and 'layer4.1.bn2.running_var' in state
    assert not any(k.startswith(('backbone.', 'cls_head.')) for k in state)
    # the same tensors as the backbone in the final training checkpoint
    ckpt = torch.load(osp.join(work, 'epoch_1.pth'), map_location='cpu',
                      weights_only=False)['state_dict']
    for k, v in state.items():
        assert torch.equal(v, ckpt[f'backbone.{k}']), k

    # tools/misc/extract_backbone.py gives the same file content
    out = str(tmp_path / 'extracted.pth')
    monkeypatch.setattr(sys, 'argv', [
        'extract_backbone.py', osp.join(work, 'epoch_1.pth'), out])
    runpy.run_path(osp.join(REPO, 'tools', 'misc', 'extract_backbone.py'),
                   run_name='__main__')
    extracted = torch.load(out, map_location='cpu')['state_dict']
    assert extracted.keys() == state.keys()
    assert all(torch.equal(extracted[k], state[k]) for k in state)

    # an ME backbone starts from it (ImageNet -> macro -> ME)
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'pretrain',
                                   'akm_synthetic_stills.py'))
    assert cfg.model.backbone.pretrained.endswith(
        'frameresnet_stills4/backbone.pth')
    backbone = FrameResNet(base_channels=8,
                           pretrained=osp.join(work, 'backbone.pth'))
    backbone.init_weights()
    own = backbone.state_dict()
    for k, v in state.items():
        assert torch.equal(own[k], v), k


def test_missing_pretrained_file_names_path_and_command(tmp_path):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'pretrain',
                                   'akm_casme2_affectnet.py'))
    assert cfg.model.backbone.pretrained == \
        'work_dirs/frameresnet_affectnet4/backbone.pth'
    missing = str(tmp_path / 'nowhere' / 'backbone.pth')
    init_default_scope('mmaction')
    model = MODELS.build(dict(cfg.model, backbone=dict(
        cfg.model.backbone, pretrained=missing)))
    with pytest.raises(FileNotFoundError) as info:
        model.init_weights()
    msg = str(info.value)
    assert missing in msg
    assert 'python tools/train.py configs/pretrain/frameresnet_affectnet4.py' \
        in msg
    assert 'torchvision' in msg  # the ImageNet route stays documented
