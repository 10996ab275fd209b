"""Motion magnification of micro-expression clips: phase-based and linear.

Phase-based magnification (Wadhwa et al., *Phase-Based Video Motion
Processing*, SIGGRAPH 2013) is what the AKMNet paper applies offline to every
clip (α = 15). Each frame is split by a complex steerable pyramid (plenoptic's
``SteerablePyramidFreq``, exact reconstruction) into oriented band-pass
coefficients; local motion shows up as a change of their phase. The phase
difference of every frame to the clip's reference frame (the onset for an
onset→offset clip) is optionally band-passed in time, smoothed in space
weighted by the coefficients' amplitude (phase is noisy where amplitude is
low), multiplied by α and added back before reconstruction. A displacement δ
becomes ``(1 + α)·δ`` — without the noise amplification of linear
magnification, which scales intensity changes instead of phase.

Everything is batched: all frames of a clip go through one FFT per pyramid
level, the per-band work is element-wise over ``(T, C, O, h, w)`` tensors.

Linear (Eulerian) magnification, ``I_t + α·(I_t − I_ref)``, stays available
as the cheap option (:func:`linear_magnify`, used by the ``MEMagnify``
pipeline transform).

Entry points:

- :func:`phase_magnify` — torch ``(T, C, H, W)`` clip, dtype/range kept.
- :func:`linear_magnify` — numpy ``(T, H, W, C)`` uint8 clip.
- :func:`magnify_clip` — numpy ``(T, H, W, C)`` uint8 clip and a config
  ``dict(type='phase' | 'linear', alpha=..., ...)``; what offline
  preprocessing and the pipeline transforms call.
"""
import functools
import inspect
import math
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    'phase_magnify', 'linear_magnify', 'magnify_clip', 'complex_pyramid',
    'MAGNIFY_TYPES'
]

# First column of the inverse of the NTSC RGB -> YIQ matrix: how a change of
# luma Y alone maps back to R, G, B (I and Q are left untouched).
_RGB_TO_Y = torch.tensor([0.299, 0.587, 0.114])
_YIQ_TO_RGB_Y = torch.linalg.inv(
    torch.tensor([[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263],
                  [0.211456, -0.522591, 0.311135]],
                 dtype=torch.float64))[:, 0].float()


@functools.lru_cache(maxsize=8)
def complex_pyramid(height: int, width: int, levels: Union[int, str] = 'auto',
                    orientations: int = 4) -> torch.nn.Module:
    """A complex steerable pyramid for ``height × width`` images (cached).

    Building the pyramid precomputes its frequency masks, so one instance is
    kept per image size and setting.

    Args:
        height, width (int): image size (even, for exact reconstruction).
        levels (int | str): number of band-pass scales; ``'auto'`` = as many
            as the size allows (``floor(log2(min(H, W))) - 2``).
        orientations (int): orientations per scale (≥ 2).

    Returns:
        plenoptic ``SteerablePyramidFreq`` with ``is_complex=True``.
    """
    try:
        from plenoptic.process.steerable_pyramid_freq import \
            SteerablePyramidFreq
    except ImportError as e:  # pragma: no cover - install problem
        raise ImportError(
            'phase-based magnification needs plenoptic '
            "(pip install 'plenoptic>=2,<3'); linear magnification "
            "(dict(type='linear')) does not") from e
    if orientations < 2:
        raise ValueError(f'orientations must be >= 2 for a complex pyramid, '
                         f'got {orientations}')
    return SteerablePyramidFreq((height, width), height=levels,
                                order=orientations - 1, is_complex=True)


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur (std ``sigma`` px) of ``(..., h, w)`` real tensors.

    Multiplies by the Gaussian's transfer function in the frequency domain:
    cheaper than a spatial convolution of many small single-channel maps,
    and periodic at the borders like the pyramid's own FFT filters.
    """
    h, w = x.shape[-2:]
    fy = torch.fft.fftfreq(h, device=x.device)
    fx = torch.fft.rfftfreq(w, device=x.device)
    gain = torch.exp(-2 * math.pi**2 * sigma**2 *
                     (fy[:, None]**2 + fx[None, :]**2))
    return torch.fft.irfft2(torch.fft.rfft2(x) * gain, s=(h, w))


def _temporal_bandpass(x: torch.Tensor, band: Tuple[float, float],
                       fps: float) -> torch.Tensor:
    """Ideal temporal band-pass of ``(T, ...)`` along dim 0 (frequencies in
    Hz, inclusive)."""
    low, high = band
    freqs = torch.fft.rfftfreq(x.shape[0], d=1.0 / fps)
    keep = ((freqs >= low) & (freqs <= high)).to(x.dtype)
    spec = torch.fft.rfft(x, dim=0)
    return torch.fft.irfft(spec * keep.view(-1, *[1] * (x.dim() - 1)),
                           n=x.shape[0], dim=0)


def _check_band(band: Optional[Sequence[float]],
                fps: Optional[float]) -> Optional[Tuple[float, float]]:
    if band is None:
        return None
    if len(band) != 2 or not 0 <= band[0] < band[1]:
        raise ValueError(f'band must be (low_hz, high_hz) with 0 <= low < '
                         f'high, got {band}')
    if not fps or fps <= 0:
        raise ValueError(f'a temporal band {tuple(band)} Hz needs the clip '
                         f'frame rate (fps > 0), got fps={fps}')
    return float(band[0]), float(band[1])


def phase_magnify(clip: torch.Tensor,
                  alpha: float = 15.0,
                  levels: Union[int, str] = 'auto',
                  orientations: int = 4,
                  sigma: float = 2.0,
                  reference: int = 0,
                  band: Optional[Sequence[float]] = None,
                  fps: Optional[float] = None,
                  luma_only: bool = True,
                  value_range: Optional[Tuple[float, float]] = None
                  ) -> torch.Tensor:
    """Phase-based motion magnification of one clip.

    Args:
        clip (torch.Tensor): ``(T, C, H, W)`` frames, C = 1 or 3 (RGB),
            uint8 or floating point.
        alpha (float): phase amplification; a displacement δ from the
            reference frame becomes ``(1 + alpha)·δ``. 0 returns a copy of
            the clip. Defaults to 15 (paper).
        levels (int | str): pyramid scales (``'auto'``: all the frame size
            allows). Defaults to ``'auto'``.
        orientations (int): orientations per scale. Defaults to 4.
        sigma (float): std (in coefficients of each scale) of the
            amplitude-weighted Gaussian smoothing of the phase difference;
            0 disables it. Defaults to 2.
        reference (int): index of the reference frame (the onset of an
            onset→offset clip: 0). Negative indices count from the end.
        band (tuple[float, float], optional): temporal band ``(low, high)``
            in Hz applied to the phase difference (ideal FFT band-pass over
            the clip); None keeps the plain difference to the reference
            frame (usual for onset→offset ME clips). Needs ``fps``.
        fps (float, optional): frame rate, for ``band``.
        luma_only (bool): for RGB clips, magnify the NTSC luma Y only and
            leave chroma as is (the reference implementation's choice;
            3× cheaper). False magnifies R, G and B separately.
        value_range (tuple[float, float], optional): output clamp range.
            None: ``(0, 255)`` for uint8, the clip's own ``(min, max)`` for
            floating point.

    Returns:
        torch.Tensor: ``(T, C, H, W)`` magnified clip, same dtype and device.
    """
    if clip.dim() != 4 or clip.shape[1] not in (1, 3):
        raise ValueError('phase_magnify expects a (T, C, H, W) clip with C = '
                         f'1 or 3, got shape {tuple(clip.shape)}')
    if alpha < 0:
        raise ValueError(f'alpha must be >= 0, got {alpha}')
    band = _check_band(band, fps)
    t, c, h, w = clip.shape
    if not -t <= reference < t:
        raise ValueError(f'reference frame {reference} is outside a clip of '
                         f'{t} frames')
    if not alpha or t == 1:
        return clip.clone()
    if value_range is None:
        if clip.dtype == torch.uint8:
            value_range = (0.0, 255.0)
        elif clip.dtype.is_floating_point:
            value_range = (clip.min().item(), clip.max().item())
        else:
            raise TypeError(f'unsupported clip dtype {clip.dtype}')
    x = clip.float()

    if c == 3 and luma_only:
        work = torch.einsum('tchw,c->thw', x, _RGB_TO_Y.to(x.device))[:, None]
    else:
        work = x
    # plenoptic's pyramid reconstructs exactly for even sizes only
    pad_h, pad_w = h % 2, w % 2
    if pad_h or pad_w:
        work = F.pad(work, (0, pad_w, 0, pad_h), mode='replicate')
    pyramid = complex_pyramid(work.shape[-2], work.shape[-1], levels,
                              orientations).to(x.device)
    coeffs = pyramid(work)
    # the oriented band-pass scales carry local phase; the high- and
    # low-pass residuals are reconstructed as they are
    for scale in range(pyramid.num_scales):
        band_coeffs = coeffs[scale]  # (T, C', O, h_s, w_s) complex
        ref = band_coeffs[reference].unsqueeze(0)
        # wrapped phase difference to the reference frame, in (-pi, pi]
        delta = torch.angle(band_coeffs * ref.conj())
        if band is not None:
            delta = _temporal_bandpass(delta, band, fps)
        if sigma > 0:
            amp = band_coeffs.abs() + 1e-8
            delta = (_gaussian_blur(delta * amp, sigma) /
                     _gaussian_blur(amp, sigma))
        coeffs[scale] = band_coeffs * torch.polar(
            torch.ones_like(delta), alpha * delta)
    out = pyramid.recon_pyr(coeffs)[..., :h, :w]

    if c == 3 and luma_only:
        # only Y changed: map its change back to RGB through the YIQ inverse
        out = x + (out - work[..., :h, :w]) * _YIQ_TO_RGB_Y.to(
            x.device).view(1, 3, 1, 1)
    if not clip.dtype.is_floating_point:
        return out.round_().clamp_(*value_range).to(clip.dtype)
    # clamp in the output dtype, so its bounds are exactly the range's
    return out.to(clip.dtype).clamp_(*value_range)


def linear_magnify(frames: np.ndarray, alpha: float,
                   keep_frame: bool = True, reference: int = 0) -> np.ndarray:
    """Linear (Eulerian) magnification of the change from a reference frame.

    ``I'_t = I_t + alpha·(I_t − I_ref)`` (``keep_frame=False``: the scaled
    change on mid-grey, ``128 + alpha·(I_t − I_ref)``, a difference image),
    rounded and clipped to [0, 255].

    Args:
        frames (np.ndarray): ``(T, H, W, C)`` uint8 clip.
        alpha (float): magnification factor (≥ 0).
        keep_frame (bool): add the change to the frame or to mid-grey.
        reference (int): index of the reference frame. Defaults to 0.

    Returns:
        np.ndarray: ``(T, H, W, C)`` uint8.
    """
    if alpha < 0:
        raise ValueError(f'alpha must be >= 0, got {alpha}')
    if not alpha and keep_frame:
        return frames
    clip = np.asarray(frames, dtype=np.float32)
    change = alpha * (clip - clip[reference][None])
    clip = clip + change if keep_frame else change + 128.0
    np.clip(clip, 0, 255, out=clip)
    return np.rint(clip).astype(np.uint8)


def _magnify_phase(frames: np.ndarray, fps: Optional[float] = None,
                   **kwargs) -> np.ndarray:
    clip = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)
    kwargs.setdefault('fps', fps)
    with torch.no_grad():
        out = phase_magnify(clip, **kwargs)
    return out.permute(0, 2, 3, 1).contiguous().numpy()


def _magnify_linear(frames: np.ndarray, fps: Optional[float] = None,
                    **kwargs) -> np.ndarray:
    return linear_magnify(frames, **kwargs)


#: ``cfg['type']`` -> function(frames, fps=None, **cfg) of :func:`magnify_clip`
MAGNIFY_TYPES = {'phase': _magnify_phase, 'linear': _magnify_linear}


def check_magnify_cfg(cfg) -> None:
    """ValueError unless ``cfg`` is a :func:`magnify_clip` config: a dict
    with a known ``type`` and only options its function takes."""
    if not isinstance(cfg, dict):
        raise ValueError(f'expected dict(type=..., ...), got {cfg!r}')
    kind = cfg.get('type')
    if kind not in MAGNIFY_TYPES:
        raise ValueError(f'unknown magnification type {kind!r}; expected '
                         f'one of {sorted(MAGNIFY_TYPES)}')
    func = dict(phase=phase_magnify, linear=linear_magnify)[kind]
    known = list(inspect.signature(func).parameters)[1:]  # after the clip
    unknown = sorted(set(cfg) - {'type'} - set(known))
    if unknown:
        raise ValueError(f'{kind} magnification: unknown option(s) '
                         f'{unknown}; expected some of {known}')


def magnify_clip(frames: np.ndarray, cfg: dict,
                 fps: Optional[float] = None) -> np.ndarray:
    """Magnify one clip as configured (offline preprocessing entry point).

    Args:
        frames (np.ndarray): ``(T, H, W, C)`` uint8 clip (C = 1 or 3).
        cfg (dict): ``dict(type='phase', alpha=15, levels=..., orientations=
            ..., sigma=..., reference=..., band=..., luma_only=...)`` (the
            arguments of :func:`phase_magnify`) or ``dict(type='linear',
            alpha=..., keep_frame=..., reference=...)``.
        fps (float, optional): the clip's frame rate (used by a temporal
            ``band``; ``cfg['fps']`` wins if given).

    Returns:
        np.ndarray: magnified ``(T, H, W, C)`` uint8 clip.
    """
    check_magnify_cfg(dict(cfg))
    cfg = dict(cfg)
    kind = cfg.pop('type')
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.dtype != np.uint8:
        raise ValueError('magnify_clip expects a (T, H, W, C) uint8 clip, got '
                         f'{frames.dtype} {frames.shape}')
    return MAGNIFY_TYPES[kind](frames, fps=fps, **cfg)
