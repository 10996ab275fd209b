"""Helpers for the model tests (tiny widths, tiny frames)."""
import torch


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
