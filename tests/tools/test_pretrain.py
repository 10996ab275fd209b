"""Macro-expression pretraining: the configs, a tiny end-to-end run on the
synthetic stills that exports the backbone, and the ME configs taking it by
path."""
import glob
import os
import os.path as osp
import re
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
from mmakm.engine import CheckpointError, MissingCheckpointError
from mmakm.models.backbones.frame_resnet import FrameResNet

from tools_testlib import REPO, load_tool, run_tool

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

    # AKMNet starts from it through the config the README gives
    # (ImageNet -> macro -> ME): every backbone tensor arrives
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'pretrain',
                                   'akm_synthetic_stills.py'))
    assert cfg.model.backbone.pretrained.endswith(
        'frameresnet_stills4/backbone.pth')
    cfg.merge_from_dict({
        'model.backbone.pretrained': osp.join(work, 'backbone.pth'),
        'model.backbone.base_channels': 8, 'model.neck.in_channels': 64,
        'model.cls_head.in_channels': 64})
    init_default_scope('mmaction')
    akmnet = MODELS.build(cfg.model)
    akmnet.init_weights()
    own = akmnet.backbone.state_dict()
    assert own.keys() == state.keys()
    for k, v in state.items():
        assert torch.equal(own[k], v), k

    # the other stem settings are named, not loaded in part
    cfg.merge_from_dict({'model.backbone.stem': 'paper'})
    akmnet = MODELS.build(cfg.model)
    with pytest.raises(CheckpointError, match=r"stem='paper'.*the file: "
                       r"conv1\.weight \(8, 3, 7, 7\): stem='torchvision'"):
        akmnet.init_weights()


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


# --------------------------------------------------- weights hand-off cases
def _backbone_file(path, net, wrap='backbone.pth', extra=None):
    """Weights of ``net`` as the hand-off meets them: ``'backbone.pth'``
    (what BackboneExportHook writes), ``'torchvision'`` (a resnet18 state
    dict with its fc), ``'mmengine'`` (a recognizer checkpoint with
    state_dict / meta, head included)."""
    state = {k: v.clone() for k, v in net.state_dict().items()}
    if wrap == 'backbone.pth':
        obj = dict(state_dict=state, meta=dict(classes=('positive', )))
    elif wrap == 'torchvision':
        obj = dict(state, **{'fc.weight': torch.randn(1000, 64),
                             'fc.bias': torch.randn(1000)})
    else:
        obj = dict(state_dict={f'backbone.{k}': v for k, v in state.items()},
                   meta=dict(epoch=3))
        obj['state_dict']['cls_head.fc_cls.weight'] = torch.randn(4, 64)
    if extra:
        obj = extra(obj)
    torch.save(obj, path)
    return str(path)


def _trained(**kwargs):
    net = FrameResNet(base_channels=8, **kwargs)
    torch.manual_seed(0)
    for v in net.state_dict().values():  # every tensor distinguishable
        if v.is_floating_point():
            v.uniform_(0.5, 1.5)
    return net


@pytest.mark.parametrize('wrap', ['backbone.pth', 'torchvision', 'mmengine'])
def test_handoff_every_tensor_arrives(tmp_path, wrap):
    src = _trained()
    path = _backbone_file(tmp_path / 'w.pth', src, wrap)
    dst = FrameResNet(base_channels=8, pretrained=path)
    dst.init_weights()
    for k, v in src.state_dict().items():
        assert torch.equal(dst.state_dict()[k], v), k


def test_handoff_gray_and_rgb_stems_adapt_exactly(tmp_path):
    gray_img = torch.rand(2, 1, 32, 32)
    rgb = _trained()
    gray = FrameResNet(base_channels=8, in_channels=1,
                       pretrained=_backbone_file(tmp_path / 'rgb.pth', rgb))
    gray.init_weights()
    # same features for a gray image as the RGB net on its 3 copies
    rgb.eval(), gray.eval()
    torch.testing.assert_close(gray(gray_img), rgb(gray_img.repeat(
        1, 3, 1, 1)))
    back = FrameResNet(base_channels=8, pretrained=_backbone_file(
        tmp_path / 'gray.pth', gray))
    back.init_weights()
    back.eval()
    torch.testing.assert_close(back(gray_img.repeat(1, 3, 1, 1)),
                               gray(gray_img))


@pytest.mark.parametrize('case,match', [
    ('paper_into_torchvision', r"conv1\.weight \(checkpoint \(8, 3, 5, 5\), "
     r"model \(8, 3, 7, 7\)\)"),
    ('width', r'100 key\(s\) of another shape: conv1\.weight \(checkpoint '
     r'\(8, 3, 7, 7\), model \(16, 3, 7, 7\)\).*\(80 more\)'),
    ('partial', r'10 model key\(s\) missing from the checkpoint: '
     r'layer4\.1\.conv1\.weight'),
    ('deeper', r'unexpected checkpoint key\(s\) not in the model: '
     r'layer1\.2\.conv1\.weight'),
    ('mmaction_resnet', r'(?s)45 model key\(s\) missing.*unexpected '
     r'checkpoint key\(s\) not in the model: conv1\.conv\.weight'),
])
def test_handoff_mismatch_is_an_error_naming_keys(tmp_path, case, match):
    src = _trained(stem='paper') if case.startswith('paper') else _trained()
    extra, kwargs = None, {}
    if case == 'width':
        kwargs = dict(base_channels=16)
    elif case == 'partial':  # a file cut to its first 110 tensors
        def extra(obj):
            keys = [k for k in obj['state_dict'] if not k.endswith(
                'num_batches_tracked')]
            cut = [k for k in keys if k.startswith('layer4.1.')][:10]
            for k in cut:
                del obj['state_dict'][k]
            return obj
    elif case == 'deeper':  # a ResNet-34's third block of layer1
        def extra(obj):
            obj['state_dict']['layer1.2.conv1.weight'] = torch.zeros(
                8, 8, 3, 3)
            return obj
    elif case == 'mmaction_resnet':  # MMAction2's ResNet names
        def extra(obj):
            obj['state_dict'] = {
                'backbone.' + k.replace('conv1.weight', 'conv1.conv.weight')
                .replace('bn1.', 'conv1.bn.'): v
                for k, v in obj['state_dict'].items() if '.' in k}
            return obj
    path = _backbone_file(tmp_path / 'w.pth', src, extra=extra)
    dst = FrameResNet(**dict(dict(base_channels=8), **kwargs),
                      pretrained=path)
    before = {k: v.clone() for k, v in dst.state_dict().items()}
    with pytest.raises(CheckpointError, match=match) as info:
        dst.init_weights()
    assert path in str(info.value)
    # nothing loaded in part
    assert all(torch.equal(before[k], v) for k, v in
               dst.state_dict().items())


def test_handoff_wrong_files(tmp_path):
    cases = {
        'empty.pth': (b'', r'empty checkpoint file \(0 bytes\)'),
        'text.pth': (b'hello', "not a checkpoint: it starts with b'hello'"),
    }
    for name, (data, match) in cases.items():
        (tmp_path / name).write_bytes(data)
        net = FrameResNet(base_channels=8, pretrained=str(tmp_path / name))
        with pytest.raises(CheckpointError, match=re.escape(
                str(tmp_path / name)) + '.*' + match):
            net.init_weights()
    torch.save([1, 2], tmp_path / 'list.pth')
    with pytest.raises(CheckpointError, match='not a checkpoint'):
        FrameResNet(pretrained=str(tmp_path / 'list.pth')).init_weights()
    with pytest.raises(MissingCheckpointError):
        FrameResNet(pretrained=str(tmp_path / 'no.pth')).init_weights()


def test_train_tool_prints_handoff_and_corpus_errors_alone(tmp_path):
    """What a user of tools/train.py meets: one line, no traceback."""
    root = make_synthetic_stills(str(tmp_path / 'stills'), seed=0,
                                 per_class=2, test_per_class=1, size=32)
    train = load_tool('train')
    config = osp.join(REPO, 'configs', 'pretrain', 'frameresnet_stills4.py')
    opts = [f'{k}_dataloader.dataset.data_root={root}'
            for k in ('train', 'val', 'test')]

    bad = tmp_path / 'resnet34.pth'
    torch.save({'layer1.2.conv1.weight': torch.zeros(1)}, bad)
    with pytest.raises(SystemExit, match=r'^error: FrameResNet: .*'
                       r'resnet34\.pth does not fit this backbone'):
        train.main([config, '--work-dir', str(tmp_path / 'w1'),
                    '--cfg-options', *opts,
                    f'model.backbone.pretrained={bad}'])
    with pytest.raises(SystemExit, match=r'^error: FrameResNet: pretrained '
                       r'weights not found: .*python tools/train.py'):
        train.main([config, '--work-dir', str(tmp_path / 'w2'),
                    '--cfg-options', *opts,
                    f'model.backbone.pretrained={tmp_path}/none.pth'])

    image = osp.join(root, 'Image', 'aligned', 'train_00003_aligned.jpg')
    open(image, 'wb').close()
    with pytest.raises(SystemExit, match=r'^error: .*list_patition_label'
                       r'\.txt, line 3: .*train_00003_aligned\.jpg: empty '
                       r'file \(0 bytes\)$'):
        train.main([config, '--work-dir', str(tmp_path / 'w3'),
                    '--cfg-options', *opts])
    os.remove(image)
    with pytest.raises(SystemExit, match=r'^error: .*line 3: image not '
                       r'found: .*train_00003_aligned\.jpg$'):
        train.main([config, '--work-dir', str(tmp_path / 'w4'),
                    '--cfg-options', *opts])


def test_extract_backbone_tool_errors(tmp_path, monkeypatch):
    tool = osp.join(REPO, 'tools', 'misc', 'extract_backbone.py')
    src = tmp_path / 'backbone_only.pth'
    _backbone_file(src, _trained())
    for path, match in ((src, r"no 'backbone\.' weights in the state dict"),
                        (tmp_path / 'none.pth', 'checkpoint not found')):
        monkeypatch.setattr(sys, 'argv', ['extract_backbone.py', str(path),
                                          str(tmp_path / 'out.pth')])
        with pytest.raises(SystemExit, match=r'^error: .*' + match):
            runpy.run_path(tool, run_name='__main__')
    assert not (tmp_path / 'out.pth').exists()


def test_affectnet_pretraining_hands_every_tensor_to_akmnet(tmp_path):
    """README walkthrough step 2 on a fabricated AffectNet: one iteration
    of configs/pretrain/frameresnet_affectnet4.py through tools/train.py
    (face boxes cropped, codes 8-10 excluded), then the paper's AKMNet
    config (configs/pretrain/akm_casme2_affectnet.py) takes the export."""
    sys.path.insert(0, osp.join(REPO, 'tests'))
    import fabricate_faces as fab
    root = str(tmp_path / 'affectnet')
    fab.make_affectnet(root)
    fab.make_affectnet(root, ann_file='validation.csv')
    work = str(tmp_path / 'work')
    opts = [f'{k}_dataloader.{o}' for k in ('train', 'val', 'test')
            for o in (f'dataset.data_root={root}', 'num_workers=0',
                      'batch_size=4')]
    load_tool('train').main([
        osp.join(REPO, 'configs', 'pretrain', 'frameresnet_affectnet4.py'),
        '--work-dir', work, '--cfg-options', *opts,
        'train_dataloader.dataset.per_class=1', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1'])
    exported = torch.load(osp.join(work, 'backbone.pth'), map_location='cpu')
    state = exported['state_dict']
    assert exported['meta']['iter'] == 1  # 4 images (one per class)
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'pretrain',
                                   'akm_casme2_affectnet.py'))
    assert cfg.model.backbone.pretrained == \
        'work_dirs/frameresnet_affectnet4/backbone.pth'
    cfg.model.backbone.pretrained = osp.join(work, 'backbone.pth')
    init_default_scope('mmaction')
    akmnet = MODELS.build(cfg.model)
    akmnet.init_weights()
    own = akmnet.backbone.state_dict()
    assert own.keys() == state.keys() and len(state) == 120
    for k, v in state.items():
        assert torch.equal(own[k], v), k


def test_loso_refuses_unfit_weights_before_any_fold(tmp_path, capsys):
    """README walkthrough step 3 with a backbone of another stem: one
    message before the first fold (not one failure per fold)."""
    sys.path.insert(0, osp.join(REPO, 'tests'))
    import fabricate as fab
    root = fab.make_casme2(str(tmp_path / 'casme2'), rows=fab.CASME2_ROWS)
    weights = _backbone_file(tmp_path / 'paper_stem.pth',
                             FrameResNet(stem='paper'))
    work = tmp_path / 'loso'
    rc = load_tool('loso').main([
        osp.join(REPO, 'configs', 'akm_casme2.py'), '--work-dir', str(work),
        '--cfg-options', f'model.backbone.pretrained={weights}',
        *[f'{loader}.dataset.{k}={v}'
          for loader in ('train_dataloader', 'test_dataloader')
          for k, v in (('data_root', root), ('cache_dir', None))]])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert re.search(r"^error: FrameResNet: .*paper_stem\.pth does not fit "
                     r"this backbone \(stem='torchvision'", err, re.M), err
    assert 'Traceback' not in err
    assert not list(work.glob('fold_*'))
