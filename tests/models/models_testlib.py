"""Helpers for the model tests (tiny widths, tiny frames; the authors'
reference paired with mmakm's AKMNet)."""
import torch

from mmakm.models.official import official_akmnet_cfg
from mmakm.testing import OfficialAKMNet, copy_to_akmnet
from mmaction.registry import MODELS

LOSSES = ('loss_cls', 'loss_gs', 'loss_mmm')


def tiny_akmnet_cfg(**neck_kwargs):
    """AKMNet with an 8-wide FrameResNet on 64×64 frames (2×2 features)."""
    return dict(
        type='AKMNet',
        backbone=dict(type='FrameResNet', base_channels=8),
        neck=dict(type='KeyFrameMining', in_channels=64, **neck_kwargs),
        cls_head=dict(type='PixelBiGRUHead', num_classes=4, in_channels=64,
                      hidden_channels=8, spatial_size=2),
        data_preprocessor=dict(type='MEDataPreprocessor',
                               mean=[128., 128., 128.], std=[64., 64., 64.]))


def make_batch(lengths, size=64, labels=None, channels=3):
    """uint8 clips (T, C, H, W) and ActionDataSamples with gt labels."""
    from mmaction.structures import ActionDataSample
    clips = [torch.randint(0, 256, (t, channels, size, size),
                           dtype=torch.uint8) for t in lengths]
    labels = labels or [i % 4 for i in range(len(lengths))]
    samples = [ActionDataSample().set_gt_label(y) for y in labels]
    return clips, samples


def assert_same_prediction(a, b):
    """Two predictions of one clip agree: scores and β (to float32
    rounding of other batch shapes), key frames exactly."""
    torch.testing.assert_close(a.pred_score, b.pred_score, atol=1e-5,
                               rtol=1e-4)
    torch.testing.assert_close(a.frame_weights, b.frame_weights, atol=1e-5,
                               rtol=1e-4)
    assert a.key_frames.tolist() == b.key_frames.tolist()


# ------------------------------------------- the authors' reference
def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    """``‖a − b‖ / ‖b‖``."""
    return float((a - b).norm() / b.norm().clamp(min=1e-300))


def make_pair(base_channels=16, spatial_size=4, num_classes=4, seed=0,
              train_cfg=None):
    """The authors' reference (:class:`OfficialAKMNet`, float64, dropout 0)
    with randomised BN, and mmakm's AKMNet in the official settings with
    its weights (``train_cfg`` e.g. ``dict(micro_batch_frames=1)``)."""
    torch.manual_seed(seed)
    ref = OfficialAKMNet(num_classes, base_channels, spatial_size,
                         dropout=0.).double()
    with torch.no_grad():  # non-trivial BN, so eval mode means something
        for m in ref.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    cfg = official_akmnet_cfg(num_classes, base_channels, spatial_size)
    cfg['cls_head']['dropout_ratio'] = 0.
    if train_cfg is not None:
        cfg['train_cfg'] = train_cfg
    akm = MODELS.build(cfg).double()
    copy_to_akmnet(ref, akm)
    return ref, akm


def make_clips(lengths, size=128, seed=1):
    """Gray uint8 clips ``(T, 1, size, size)``, seeded."""
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 256, (t, 1, size, size), generator=g,
                          dtype=torch.uint8) for t in lengths]


def run_reference(ref, clips, labels):
    """Per-clip outputs, batch-mean losses, and their gradients."""
    ref.zero_grad()
    outs, losses = [], {k: 0. for k in LOSSES}
    for clip, label in zip(clips, labels):
        out = ref(clip)
        outs.append(out)
        for k, v in ref.losses(out, label).items():
            losses[k] = losses[k] + v / len(clips)
    sum(losses.values()).backward()
    grads = {k: p.grad.clone() for k, p in ref.named_parameters()}
    return outs, losses, grads
