"""AKMNet's neck + head on MMAction2 backbones: per-frame (2D) backbones
train and predict on packed variable-length clips; backbones that mix
frames over time are refused when the model is built, naming the module."""
import sys

import pytest
import torch

from mmaction.registry import MODELS

from models_testlib import make_batch


def akmnet_on(backbone, channels):
    return dict(
        type='AKMNet', backbone=backbone,
        neck=dict(type='KeyFrameMining', in_channels=channels),
        cls_head=dict(type='PixelBiGRUHead', num_classes=4,
                      in_channels=channels, hidden_channels=8, num_layers=1,
                      spatial_size=1),
        data_preprocessor=dict(type='MEDataPreprocessor',
                               mean=[128.] * 3, std=[64.] * 3))


PER_FRAME = {
    'ResNet': (dict(type='ResNet', depth=18, pretrained=None), 512),
    'MobileNetV2': (dict(type='MobileNetV2', pretrained=None,
                         widen_factor=0.25), 1280),
    # ResNetTSM without its shift is a plain 2D ResNet
    'ResNetTSM(is_shift=False)': (dict(
        type='ResNetTSM', depth=18, pretrained=None, pretrained2d=False,
        is_shift=False), 512),
}


@pytest.mark.parametrize('name', sorted(PER_FRAME))
def test_per_frame_backbones_train_and_predict_packed_clips(name):
    model = MODELS.build(akmnet_on(*PER_FRAME[name]))
    clips, samples = make_batch([3, 5, 2], size=32)
    data = model.data_preprocessor(dict(inputs=clips, data_samples=samples),
                                   training=True)
    losses = model(**data, mode='loss')
    assert set(losses) >= {'loss_cls', 'loss_gs', 'loss_mmm'}
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert all(p.grad is not None for p in model.cls_head.parameters())
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(
            dict(inputs=clips, data_samples=samples)), mode='predict')
    assert [len(s.frame_weights) for s in out] == [3, 5, 2]


TEMPORAL = {
    'ResNet3d': (dict(type='ResNet3d', depth=18, pretrained=None,
                      pretrained2d=False), 'Conv3d'),
    'X3D': (dict(type='X3D', gamma_w=1, gamma_b=2.25, gamma_d=1), 'Conv3d'),
    'ResNetTSM': (dict(type='ResNetTSM', depth=18, pretrained=None,
                       pretrained2d=False, num_segments=8), 'TemporalShift'),
    'MobileNetV2TSM': (dict(type='MobileNetV2TSM', pretrained=None,
                            pretrained2d=False, widen_factor=0.25),
                       'TemporalShift'),
}


@pytest.mark.parametrize('name', sorted(TEMPORAL))
def test_backbones_mixing_frames_over_time_are_refused(name):
    """Packed clips (ΣT, C, H, W): a 3D conv fails on them, a temporal
    shift runs silently across clip boundaries -- both refused."""
    backbone, module = TEMPORAL[name]
    with pytest.raises(ValueError,
                       match=rf'AKMNet needs a per-frame \(2D\) backbone.*'
                       rf'{name} mixes frames over time \({module} at'):
        MODELS.build(akmnet_on(backbone, 512))


class _TorchvisionLikeNet(torch.nn.Module):
    """torchvision's classifier layout: features, global pooling, flatten,
    ``fc`` (which MMAction2's wrapper replaces by an Identity)."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 16, 3, stride=4)
        self.avgpool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(16, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.conv(x)), 1))


def test_pooled_backbone_features_feed_the_neck_as_1x1_maps(monkeypatch):
    """``backbone=dict(type='torchvision.<name>')`` (or ``timm.``): MMAction2
    builds the torchvision model and drops its ``fc``, so each frame gives
    a pooled ``(C,)`` vector; AKMNet takes it as a 1x1 map."""
    import types
    fake = types.ModuleType('torchvision')
    fake.models = types.ModuleType('torchvision.models')
    fake.models.tinynet = _TorchvisionLikeNet
    monkeypatch.setitem(sys.modules, 'torchvision', fake)
    monkeypatch.setitem(sys.modules, 'torchvision.models', fake.models)
    model = MODELS.build(akmnet_on(dict(type='torchvision.tinynet'), 16))
    assert isinstance(model.backbone.fc, torch.nn.Identity)
    clips, samples = make_batch([3, 5, 2], size=32)
    data = model.data_preprocessor(dict(inputs=clips, data_samples=samples),
                                   training=True)
    feats, _ = model.extract_feat(data['inputs'], data['data_samples'],
                                  stage='backbone')
    assert feats.shape == (10, 16, 1, 1)
    losses = model(**data, mode='loss')
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert model.backbone.conv.weight.grad is not None
