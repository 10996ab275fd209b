"""Phase-based and linear motion magnification
(mmakm.preprocessing.magnification) and the MEPhaseMagnify transform."""
import math
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

import mmakm  # noqa: F401  (registers the transforms)

from mmakm.preprocessing.magnification import (complex_pyramid,
                                               linear_magnify, magnify_clip,
                                               phase_magnify)

WAVELENGTH = 16.0  # px; 4 whole periods in 64 px (the pyramid is periodic)


def _translating_sinusoid(shift_per_frame, frames=8, size=64, channels=1):
    """(T, C, H, W) float clip of a vertical-bar sinusoid moving right by
    ``shift_per_frame`` px per frame, and the true shifts (T,)."""
    x = torch.arange(size, dtype=torch.float64)
    shifts = shift_per_frame * torch.arange(frames, dtype=torch.float64)
    rows = 0.5 + 0.35 * torch.sin(2 * math.pi * (x[None] - shifts[:, None]) /
                                  WAVELENGTH)
    clip = rows[:, None, None, :].expand(frames, channels, size, size)
    return clip.float().contiguous(), shifts


def _measured_shift(clip):
    """Displacement of the sinusoid in each frame relative to frame 0 (px),
    from the phase of its Fourier component along x."""
    rows = clip.double().mean(dim=(1, 2))  # (T, W)
    k = int(round(rows.shape[-1] / WAVELENGTH))
    comp = torch.fft.rfft(rows, dim=-1)[:, k]
    return -torch.angle(comp * comp[0].conj()) * WAVELENGTH / (2 * math.pi)


@pytest.mark.parametrize('alpha', [5.0, 15.0])
def test_subpixel_translation_is_amplified_by_one_plus_alpha(alpha):
    clip, shifts = _translating_sinusoid(0.02)  # 0 .. 0.14 px
    out = phase_magnify(clip, alpha=alpha)
    measured = _measured_shift(out)
    assert abs(measured[0]) < 1e-4
    ratio = measured[1:] / shifts[1:]
    # tolerance 2 %: the pyramid is exact, the phase shift is uniform, so
    # the only error is the small-angle linearity of the band's phase
    assert torch.allclose(ratio, torch.full_like(ratio, 1 + alpha), rtol=0.02)
    # the input itself moved by the true shifts (sanity of the measurement)
    assert torch.allclose(_measured_shift(clip), shifts, atol=1e-4)


def test_rgb_luma_magnification_moves_all_channels_alike():
    clip, shifts = _translating_sinusoid(0.02, channels=3)
    clip = (clip * 255).round().to(torch.uint8)
    out = phase_magnify(clip, alpha=10.0)
    assert out.dtype == torch.uint8 and out.shape == clip.shape
    for c in range(3):
        ratio = _measured_shift(out[:, c:c + 1].float())[-1] / shifts[-1]
        assert abs(ratio - 11.0) < 0.05 * 11  # 5 %: uint8 rounding


def test_temporal_band_keeps_only_motion_in_band():
    # 0.5 Hz drift + 5 Hz oscillation at 20 fps; a 3-7 Hz band magnifies
    # the oscillation only
    fps, frames = 20.0, 40
    t = torch.arange(frames, dtype=torch.float64) / fps
    slow = 0.02 * torch.sin(2 * math.pi * 0.5 * t)
    fast = 0.02 * torch.sin(2 * math.pi * 5.0 * t)
    x = torch.arange(64, dtype=torch.float64)
    shifts = slow + fast
    rows = 0.5 + 0.35 * torch.sin(2 * math.pi *
                                  (x[None] - shifts[:, None]) / WAVELENGTH)
    clip = rows[:, None, None, :].expand(frames, 1, 64, 64).float()
    out = phase_magnify(clip, alpha=10.0, band=(3.0, 7.0), fps=fps)
    added = _measured_shift(out) - _measured_shift(clip)
    # added motion = alpha * (band-passed motion relative to frame 0)
    assert torch.allclose(added, 10.0 * fast, atol=0.03)
    with pytest.raises(ValueError, match='fps'):
        phase_magnify(clip, band=(3.0, 7.0))


def test_static_clip_comes_back_unchanged():
    rng = np.random.default_rng(0)
    frame = torch.from_numpy(rng.integers(0, 256, (3, 50, 62), np.uint8))
    clip = frame[None].repeat(6, 1, 1, 1)
    out = phase_magnify(clip, alpha=15.0)
    assert out.dtype == torch.uint8
    assert torch.equal(out, clip)
    f = clip.float() / 255
    assert torch.allclose(phase_magnify(f, alpha=15.0, luma_only=False), f,
                          atol=1e-5)


def test_alpha_zero_reconstructs_and_odd_sizes_work():
    clip = torch.rand(4, 1, 33, 47)  # odd sizes are padded internally
    out = phase_magnify(clip, alpha=15.0)
    assert out.shape == clip.shape
    assert torch.equal(phase_magnify(clip, alpha=0.0), clip)


@pytest.mark.parametrize('dtype,scale', [(torch.float32, 1.0),
                                         (torch.float64, 255.0),
                                         (torch.uint8, 255.0)])
def test_dtype_and_range_preserved(dtype, scale):
    torch.manual_seed(0)
    clip = (torch.rand(5, 3, 32, 32) * scale).to(dtype)
    out = phase_magnify(clip, alpha=15.0)
    assert out.dtype == dtype
    low, high = (0, 255) if dtype == torch.uint8 else (clip.min(), clip.max())
    assert out.min() >= low and out.max() <= high
    # random frames differ from frame 0: something was magnified
    assert (out.double() - clip.double()).abs().max() > 0.05 * scale
    # a given output range is honoured
    out = phase_magnify(clip.double() / scale, value_range=(0.2, 0.8))
    assert out.min() >= 0.2 and out.max() <= 0.8


def test_reference_frame_is_configurable():
    clip, _ = _translating_sinusoid(0.02)
    out = phase_magnify(clip, alpha=15.0, reference=-1)
    assert torch.allclose(out[-1], clip[-1], atol=1e-5)
    assert not torch.allclose(out[0], clip[0], atol=1e-3)
    with pytest.raises(ValueError, match='reference'):
        phase_magnify(clip, reference=8)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match=r'\(T, C, H, W\)'):
        phase_magnify(torch.zeros(4, 2, 8, 8))
    with pytest.raises(ValueError, match='alpha'):
        phase_magnify(torch.zeros(4, 1, 8, 8), alpha=-1)
    with pytest.raises(ValueError, match='band'):
        phase_magnify(torch.zeros(4, 1, 8, 8), band=(5, 1), fps=30)
    with pytest.raises(ValueError, match="unknown magnification type 'x'"):
        magnify_clip(np.zeros((2, 8, 8, 3), np.uint8), dict(type='x'))
    with pytest.raises(ValueError, match='uint8'):
        magnify_clip(np.zeros((2, 8, 8, 3)), dict(type='linear', alpha=1))


def test_pyramid_matches_pyrtools_reference():
    pt = pytest.importorskip('pyrtools')
    rng = np.random.default_rng(1)
    img = rng.random((32, 48))
    ref = pt.pyramids.SteerablePyramidFreq(img, height=3, order=3,
                                           is_complex=True)
    coeffs = complex_pyramid(32, 48, 3, 4)(
        torch.from_numpy(img).float()[None, None])
    for scale in range(3):
        for band in range(4):
            np.testing.assert_allclose(
                coeffs[scale][0, 0, band].numpy(),
                ref.pyr_coeffs[(scale, band)], atol=2e-5)


def test_magnify_clip_dispatches_phase_and_linear():
    clip, shifts = _translating_sinusoid(0.02, channels=3)
    frames = (clip * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    out = magnify_clip(frames, dict(type='phase', alpha=15.0))
    assert out.shape == frames.shape and out.dtype == np.uint8
    moved = _measured_shift(torch.from_numpy(out).permute(0, 3, 1, 2)
                            .float())[-1]
    assert abs(moved / shifts[-1] - 16.0) < 0.05 * 16
    lin = magnify_clip(frames, dict(type='linear', alpha=2.0))
    np.testing.assert_array_equal(lin, linear_magnify(frames, 2.0))
    np.testing.assert_array_equal(lin[0], frames[0])


def test_phase_magnify_transform_in_a_pipeline():
    clip, shifts = _translating_sinusoid(0.02, channels=3)
    imgs = list((clip * 255).round().to(torch.uint8).permute(0, 2, 3,
                                                              1).numpy())
    init_default_scope('mmaction')
    pipeline = Compose([
        dict(type='MEPhaseMagnify', alpha=15.0),
        dict(type='CenterCrop', crop_size=48),
        dict(type='FormatShape', input_format='NCHW'),
    ])
    out = pipeline(dict(imgs=imgs, fps=200.0, num_clips=1,
                        clip_len=len(imgs), modality='RGB'))
    assert out['imgs'].shape == (8, 3, 48, 48)
    assert out['imgs'].dtype == np.uint8
    full = magnify_clip(np.stack(imgs), dict(type='phase', alpha=15.0))
    np.testing.assert_array_equal(out['imgs'],
                                  full[:, 8:56, 8:56].transpose(0, 3, 1, 2))
    assert 'alpha=15.0' in repr(pipeline.transforms[0])


def test_phase_magnify_in_an_me_dataset_pipeline(tmp_path):
    sys.path.insert(0, osp.dirname(osp.dirname(__file__)))
    import fabricate as fab
    from mmakm.datasets import CASME2Dataset
    init_default_scope('mmaction')
    root = fab.make_casme2(str(tmp_path / 'casme2'))
    head = [dict(type='MESampleFrames', test_mode=True),
            dict(type='MEFrameDecode')]
    tail = [dict(type='FormatShape', input_format='NCHW'),
            dict(type='PackActionInputs')]
    plain = CASME2Dataset(data_root=root, pipeline=head + tail,
                          test_mode=True)
    magnified = CASME2Dataset(
        data_root=root, test_mode=True,
        pipeline=head + [dict(type='MEPhaseMagnify', alpha=15.0)] + tail)
    linear = CASME2Dataset(
        data_root=root, test_mode=True,
        pipeline=head + [dict(type='MEMagnify', alpha=15.0)] + tail)
    a, b = plain[1]['inputs'], magnified[1]['inputs']  # (T, 3, 8, 8) uint8
    assert a.shape == b.shape and b.dtype == torch.uint8
    # the fabricated frames are flat grey levels changing over time: no
    # motion, so phase magnification leaves them as they are, while linear
    # magnification amplifies the brightness change
    assert len(torch.unique(a[:, 0])) > 1
    assert torch.equal(a, b)
    assert not torch.equal(a[1:], linear[1]['inputs'][1:])
