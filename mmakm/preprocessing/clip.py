"""One clip from the corpus as shipped to the network's input: align,
stabilise, magnify.

Shared by ``tools/preprocess.py`` (offline, into the frame cache) and the
:class:`~mmakm.datasets.transforms.MEFaceAlign` pipeline transform
(on the fly), so both give the same pixels.
"""
import copy
from typing import Optional, Sequence, Tuple

import numpy as np

from .face import (FaceLandmarker, FaceLostError, box_alignment,
                   clip_alignment, warp_clip)
from .stabilise import (compose_with_alignment, estimate_rigid_warps,
                        fit_rigid_warps, warp_displacement_px)

#: alignment defaults: output side (the paper's pre-crop size), margin
#: around the average face (fraction of its height), inter-ocular distance
#: (px; None: from size and margin), reference frames averaged from the
#: onset, ``detector`` 'landmarks' (mesh, eye line levelled) or 'box'
#: (OpenCV Haar box, no rotation).
FACE_DEFAULTS = dict(size=144, margin=0.1, eye_distance=None, ref_frames=1,
                     detector='landmarks', min_confidence=0.5)
#: stabilisation defaults (OpenCV ECC, Euclidean)
STABILISE_DEFAULTS = dict(type='ecc', iterations=100, blur=5)
#: ECC correlation below which an aligned frame no longer shows the
#: reference frame's face. Frames of a clip with a still or moving head,
#: blinks, expressions, 30 % darker light or sensor noise stay above 0.99;
#: a face gone from the crop gives about 0.3 or no convergence at all.
MIN_FACE_CORRELATION = 0.6


def merged(defaults: dict, cfg: Optional[dict]) -> Optional[dict]:
    """``defaults`` updated by ``cfg``; None when ``cfg`` is None/False,
    the defaults when it is True; anything else but a dict is refused."""
    if cfg is None or cfg is False:
        return None
    if cfg is not True and not isinstance(cfg, dict):
        raise ValueError(f'expected a dict of options, True or None, got '
                         f'{cfg!r} ({type(cfg).__name__})')
    out = copy.deepcopy(defaults)
    out.update(cfg if isinstance(cfg, dict) else {})
    unknown = set(out) - set(defaults)
    if unknown:
        raise ValueError(f'unknown option(s) {sorted(unknown)}; expected some '
                       f'of {sorted(defaults)}')
    return out


def stabilise_options(cfg: Optional[dict]) -> Optional[dict]:
    """Stabilisation options with defaults (None: off)."""
    cfg = merged(STABILISE_DEFAULTS, cfg)
    if cfg is not None and cfg['type'] != 'ecc':
        raise ValueError(f"stabilise type {cfg['type']!r}: only 'ecc'")
    return cfg


def preprocess_clip(frames: np.ndarray,
                    face: Optional[dict] = None,
                    stabilise: Optional[dict] = None,
                    magnify: Optional[dict] = None,
                    landmarker: Optional[FaceLandmarker] = None,
                    measure_motion: bool = True,
                    fps: Optional[float] = None,
                    frame_numbers: Optional[Sequence[int]] = None,
                    min_correlation: Optional[float] = MIN_FACE_CORRELATION
                    ) -> Tuple[np.ndarray, dict]:
    """Align, stabilise and magnify one clip.

    Args:
        frames (np.ndarray): (T, H, W, 3) uint8 RGB, onset first (the onset
            is the reference frame of every step); or a sequence of
            (H, W, 3) frames decoded on access (e.g. a long video: with
            ``face``, only the aligned frames are held in memory).
        face (dict, optional): alignment options (:data:`FACE_DEFAULTS`);
            None keeps the frames as they are.
        stabilise (dict, optional): per-frame rigid stabilisation to the
            reference frame (:data:`STABILISE_DEFAULTS`); needs ``face``.
        magnify (dict, optional): :func:`~mmakm.preprocessing.magnify_clip`
            options, e.g. ``dict(type='phase', alpha=15)``.
        landmarker (FaceLandmarker, optional): reused across clips.
        measure_motion (bool): record the rigid motion (px) of every frame
            relative to the reference, before and after stabilisation.
        fps (float, optional): frame rate (for a temporal magnification
            band).
        frame_numbers (sequence of int, optional): corpus frame number of
            every frame (for error messages; default: 0-based positions).
        min_correlation (float, optional): when the rigid motion is
            measured (``measure_motion`` or ``stabilise``), a frame whose
            ECC fit onto the reference frame fails or stays below this
            correlation has lost the face: FaceLostError naming the
            frames (never a clip of empty crops). None: no check.

    Returns:
        tuple: (T, S, S, 3) uint8 frames and an info dict (method, matrix,
        eyes, motion figures) for the cache index / report.

    Raises:
        NoFaceError: no face found (or its eyes not confirmed,
            :func:`~mmakm.preprocessing.face.frame_eyes`) in the reference
            frame(s);
            FaceLostError (a NoFaceError): the face is lost in some frames.
    """
    if isinstance(frames, np.ndarray) or not len(frames):
        frames = np.asarray(frames)
        shape, dtype = frames.shape, frames.dtype
    else:  # a sequence of frames decoded on access: one frame in memory
        first = np.asarray(frames[0])
        shape, dtype = (len(frames),) + first.shape, first.dtype
    if len(shape) != 4 or dtype != np.uint8:
        raise ValueError(f'expected frames (T, H, W, C) uint8, got '
                         f'{shape} {dtype}')
    face = merged(FACE_DEFAULTS, face)
    stabilise = stabilise_options(stabilise)
    info = dict(source_shape=list(shape[1:3]))
    if face is None:
        if stabilise is not None:
            raise ValueError('stabilise needs face alignment (face=None)')
        out = np.asarray(frames)
        info['method'] = 'none'
    else:
        size = int(face['size'])
        if face['detector'] == 'landmarks':
            landmarker = landmarker or FaceLandmarker(face['min_confidence'])
            matrix, eyes = clip_alignment(
                frames, landmarker, size, face['margin'],
                face['eye_distance'], face['ref_frames'], frame_numbers)
            info.update(method='landmarks', eyes=eyes.tolist())
        elif face['detector'] == 'box':
            matrix = box_alignment(frames, size)
            info['method'] = 'box'
        else:
            raise ValueError(f"face detector {face['detector']!r}: expected "
                             "'landmarks' or 'box'")
        info['matrix'] = matrix.tolist()
        out = warp_clip(frames, matrix, size)
        if stabilise is not None or measure_motion:
            fit = fit_rigid_warps(
                out, 0, (stabilise or STABILISE_DEFAULTS)['iterations'],
                blur=(stabilise or STABILISE_DEFAULTS)['blur'])
            if min_correlation is not None:
                check_face_kept(fit.correlation, min_correlation,
                                frame_numbers)
            warps = fit.warps
            info['motion_px'] = _motion_summary(warps, size)
            info['ecc_failed_frames'] = int(np.isnan(fit.correlation).sum())
            info['min_correlation'] = float(np.nanmin(fit.correlation))
        if stabilise is not None:
            out = warp_clip(frames, compose_with_alignment(matrix, warps),
                            size, inverse=True)
            info['stabilised'] = True
            if measure_motion:
                residual, _ = estimate_rigid_warps(
                    out, 0, stabilise['iterations'], blur=stabilise['blur'])
                info['residual_motion_px'] = _motion_summary(residual, size)
    if magnify:
        from .magnification import magnify_clip
        out = magnify_clip(out, dict(magnify), fps=fps)
        info['magnify'] = dict(magnify)
    return np.ascontiguousarray(out), info


def check_face_kept(correlation: np.ndarray, min_correlation: float,
                    frame_numbers: Optional[Sequence[int]] = None) -> None:
    """FaceLostError naming every frame whose ECC correlation (T,) with the
    reference frame is below ``min_correlation`` or NaN (no fit)."""
    correlation = np.asarray(correlation, dtype=np.float64)
    lost = np.flatnonzero(~(correlation >= min_correlation))
    if not len(lost):
        return
    names = (np.arange(len(correlation)) if frame_numbers is None
             else np.asarray(frame_numbers))
    what = 'frame' if frame_numbers is not None else 'frame position'

    def why(c):
        return ('no ECC fit' if np.isnan(c) else
                f'correlation {c:.2f} < {min_correlation}')
    shown = ', '.join(f'{names[i]} ({why(correlation[i])})'
                      for i in lost[:10]) + (', ...' if len(lost) > 10 else '')
    raise FaceLostError(
        f'the face of the reference {what} {names[0]} is lost in '
        f'{len(lost)} of {len(correlation)} frames: {shown}; it left the '
        'crop, is covered or the frame is blank: cut the clip or fix those '
        'frames')


def _motion_summary(warps: np.ndarray, size: int) -> dict:
    d = warp_displacement_px(warps, size)
    return dict(mean=float(d.mean()), max=float(d.max()))
