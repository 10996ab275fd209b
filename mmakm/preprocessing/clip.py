"""One clip from the corpus as shipped to the network's input: align,
stabilise, magnify.

Shared by ``tools/preprocess.py`` (offline, into the frame cache) and the
:class:`~mmakm.datasets.transforms.MEFaceAlign` pipeline transform
(on the fly), so both give the same pixels.
"""
import copy
from typing import Optional, Sequence, Tuple

import numpy as np

from .face import (FACE_CENTRE_BELOW_EYES_IOD, FaceLandmarker,
                   FaceLostError, box_alignment, canonical_eye_distance,
                   clip_alignment, warp_clip)
from .stabilise import (RigidFit, compose_with_alignment,
                        estimate_rigid_warps, fit_rigid_warps,
                        warp_displacement_px)

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
#: fraction of the crop's central face region (brows to mouth) that may
#: be outside the source frame in a frame while it was inside in the
#: reference frame. The rigid fit can follow a face that leaves the frame
#: with a good correlation (the part still in the frame matches), and the
#: crop would be padded with repeated edge pixels. No good clip of the 96
#: LFW faces aligned (head drift, blinks, micro- and macro-expressions,
#: also near the frame's edge) is refused; a head leaving the frame near
#: its edge passed the correlation alone in 56 of 93 faces, both checks
#: in 4 (``tools/analysis/many_faces.py``).
MAX_FACE_OUTSIDE = 0.05
#: the central face region, in inter-ocular distances (IOD) from the eye
#: midpoint of the crop: half its width, its top above and bottom below
#: the eye line (the ``'box'`` detector: the same region of its crop)
FACE_REGION_IOD = dict(half_width=0.9, above=0.4, below=1.3)


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
                    min_correlation: Optional[float] = MIN_FACE_CORRELATION,
                    max_face_outside: Optional[float] = MAX_FACE_OUTSIDE
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
        max_face_outside (float, optional): with the same fit, a frame in
            which more than this fraction of the crop's central face
            region (:data:`FACE_REGION_IOD`), inside the frame in the
            reference frame, maps outside the frame (the head left it)
            has lost the face: FaceLostError naming the frames (never a
            crop padded with repeated edge pixels). None: no check.

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
            check_face_found(
                fit, min_correlation, max_face_outside, matrix, shape[1:3],
                size, face['eye_distance'] or canonical_eye_distance(
                    size, face['margin']), frame_numbers)
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


def check_face_found(fit: RigidFit, min_correlation: Optional[float],
                     max_face_outside: Optional[float], matrix: np.ndarray,
                     frame_shape: Sequence[int], size: int,
                     eye_distance: float,
                     frame_numbers: Optional[Sequence[int]] = None) -> None:
    """Both face-lost checks on the rigid ``fit`` of a clip aligned by
    ``matrix`` (2, 3) from ``frame_shape`` (H, W) frames: one
    FaceLostError naming the frames of each check that fails (a check
    whose threshold is None is off)."""
    errors = []
    if min_correlation is not None:
        errors.append(low_correlation_error(fit.correlation, min_correlation,
                                            frame_numbers))
    if max_face_outside is not None:
        errors.append(face_outside_error(
            face_outside_fraction(matrix, fit.warps, frame_shape, size,
                                  eye_distance), max_face_outside,
            frame_numbers))
    errors = [e for e in errors if e]
    if errors:
        raise FaceLostError('. Also: '.join(errors))


def low_correlation_error(correlation: np.ndarray, min_correlation: float,
                          frame_numbers: Optional[Sequence[int]] = None
                          ) -> Optional[str]:
    """The FaceLostError message naming every frame whose ECC correlation
    (T,) with the reference frame is below ``min_correlation`` or NaN (no
    fit); None when there is none."""
    correlation = np.asarray(correlation, dtype=np.float64)
    lost = np.flatnonzero(~(correlation >= min_correlation))
    if not len(lost):
        return None
    names = (np.arange(len(correlation)) if frame_numbers is None
             else np.asarray(frame_numbers))
    what = 'frame' if frame_numbers is not None else 'frame position'

    def why(c):
        return ('no ECC fit' if np.isnan(c) else
                f'correlation {c:.2f} < {min_correlation}')
    shown = ', '.join(f'{names[i]} ({why(correlation[i])})'
                      for i in lost[:10]) + (', ...' if len(lost) > 10 else '')
    return (
        f'the face of the reference {what} {names[0]} is lost in '
        f'{len(lost)} of {len(correlation)} frames: {shown}; it left the '
        'crop, is covered or the frame is blank: cut the clip or fix those '
        'frames')


def face_region(size: int, eye_distance: float,
                steps: int = 9) -> np.ndarray:
    """(steps * steps, 2) points (x, y) of the central face region
    (:data:`FACE_REGION_IOD`) of a ``size`` crop whose eyes are
    ``eye_distance`` px apart (the alignment's geometry)."""
    r = FACE_REGION_IOD
    eye_row = size / 2 - FACE_CENTRE_BELOW_EYES_IOD * eye_distance
    xs = size / 2 + np.linspace(-r['half_width'], r['half_width'],
                                steps) * eye_distance
    ys = eye_row + np.linspace(-r['above'], r['below'], steps) * eye_distance
    return np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)


def face_outside_fraction(matrix: np.ndarray, warps: np.ndarray,
                          frame_shape: Sequence[int], size: int,
                          eye_distance: float) -> np.ndarray:
    """(T,) fraction of the crop's central face region that is inside the
    ``frame_shape`` (H, W) frame in the reference frame (warp 0 is the
    reference's, the identity) but outside it in frame t.

    ``matrix`` (2, 3): the clip's alignment (frame -> crop); ``warps``
    (T, 2, 3): the rigid fit of every aligned frame onto the reference
    (:func:`~mmakm.preprocessing.stabilise.fit_rigid_warps`): crop point
    ``x`` of the reference is at ``A^-1 W_t x`` in frame t.
    """
    pts = face_region(size, eye_distance)  # (P, 2)
    maps = compose_with_alignment(matrix, warps)  # (T, 2, 3) crop -> frame
    where = pts @ maps[:, :, :2].transpose(0, 2, 1) + maps[:, None, :, 2]
    h, w = frame_shape[:2]
    inside = ((where >= 0) & (where <= np.array([w - 1, h - 1]))).all(-1)
    ref = inside[0]  # (P,)
    if not ref.any():
        return np.zeros(len(warps))
    return (ref & ~inside).sum(-1) / ref.sum()


def face_outside_error(outside: np.ndarray, max_outside: float,
                       frame_numbers: Optional[Sequence[int]] = None
                       ) -> Optional[str]:
    """The FaceLostError message naming every frame in which more than
    ``max_outside`` of the central face region is outside the frame
    (``outside`` (T,), :func:`face_outside_fraction`); None when there is
    none."""
    outside = np.asarray(outside, dtype=np.float64)
    lost = np.flatnonzero(outside > max_outside)
    if not len(lost):
        return None
    names = (np.arange(len(outside)) if frame_numbers is None
             else np.asarray(frame_numbers))
    what = 'frame' if frame_numbers is not None else 'frame position'
    shown = ', '.join(f'{names[i]} ({outside[i]:.0%} of it outside)'
                      for i in lost[:10]) + (', ...' if len(lost) > 10 else '')
    return (
        f'the central face region (brows to mouth) of the reference {what} '
        f'{names[0]} left the frame in {len(lost)} of {len(outside)} '
        f'frames: {shown}; at most {max_outside:.0%} expected '
        '(max_face_outside): the crop would show repeated edge pixels '
        'there; cut the clip or fix those frames')


def _motion_summary(warps: np.ndarray, size: int) -> dict:
    d = warp_displacement_px(warps, size)
    return dict(mean=float(d.mean()), max=float(d.max()))
