"""Per-frame rigid stabilisation to a clip's reference frame (OpenCV ECC).

On real corpora the head moves about as much as the face does during a
micro-expression; a rigid (Euclidean: rotation + translation) warp per frame
that maps it onto the reference frame removes the head motion so it cannot
pass for a micro-movement. The warps are estimated on the aligned crop
(small, fast) and composed with the clip's alignment, so each output frame
is interpolated once.

Convention: a warp ``W`` (2, 3) is the *inverse* map of OpenCV's ECC,
``frame_t(W x) ~ reference(x)`` for output pixel ``x``.
"""
from typing import NamedTuple, Optional, Tuple

import cv2
import numpy as np

_IDENTITY = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32)


def _prepared(img: np.ndarray, blur: int) -> np.ndarray:
    img = np.asarray(img)
    gray = (cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
            if img.ndim == 3 and img.shape[2] == 3 else
            img.reshape(img.shape[:2]))
    gray = gray.astype(np.float32)
    if blur > 1:
        gray = cv2.GaussianBlur(gray, (blur | 1, blur | 1), 0)
    return gray


class RigidFit(NamedTuple):
    """ECC fit of every frame of a clip onto its reference frame.

    ``warps`` (T, 2, 3) float32 (module convention; identity where the fit
    failed), ``correlation`` (T,) float64: ECC's correlation coefficient
    between the reference and the warped frame (1 = identical up to gain
    and offset; NaN where the fit failed to converge).
    """
    warps: np.ndarray
    correlation: np.ndarray


def fit_rigid_warps(frames: np.ndarray, ref_index: int = 0,
                    iterations: int = 100, eps: float = 1e-5,
                    blur: int = 5, border: float = 0.1) -> RigidFit:
    """Euclidean ECC warps of ``frames`` (T, H, W, C) onto frame
    ``ref_index`` (:class:`RigidFit`).

    ``border`` (fraction of each side) is left out of the fit: it holds the
    black fill of the alignment warp.
    """
    frames = np.asarray(frames)
    h, w = frames.shape[1:3]
    mask = np.zeros((h, w), np.uint8)
    by, bx = int(border * h), int(border * w)
    mask[by:h - by, bx:w - bx] = 1
    ref = _prepared(frames[ref_index], blur)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations,
                eps)
    warps = np.repeat(_IDENTITY[None], len(frames), axis=0)
    correlation = np.ones(len(frames), np.float64)
    for t in range(len(frames)):  # one ECC fit per frame
        if t == ref_index:
            continue
        try:
            correlation[t], warps[t] = cv2.findTransformECC(
                ref, _prepared(frames[t], blur), _IDENTITY.copy(),
                cv2.MOTION_EUCLIDEAN, criteria, mask, 1)
        except cv2.error:  # no convergence: the images do not match
            correlation[t] = np.nan
    return RigidFit(warps, correlation)


def estimate_rigid_warps(frames: np.ndarray, ref_index: int = 0,
                         iterations: int = 100, eps: float = 1e-5,
                         blur: int = 5, border: float = 0.1
                         ) -> Tuple[np.ndarray, int]:
    """``(warps, failed)``: the (T, 2, 3) warps of :func:`fit_rigid_warps`
    and the number of frames whose fit failed (they keep the identity)."""
    fit = fit_rigid_warps(frames, ref_index, iterations, eps, blur, border)
    return fit.warps, int(np.isnan(fit.correlation).sum())


def warp_displacement_px(warps: np.ndarray, height: int,
                         width: Optional[int] = None) -> np.ndarray:
    """(T,) mean displacement in px of the pixels of a ``height`` x
    ``width`` image under each warp (0 for the identity)."""
    width = height if width is None else width
    ys, xs = np.mgrid[0:height:8, 0:width:8]
    pts = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)]).astype(
        np.float64)  # (3, P)
    moved = np.asarray(warps, dtype=np.float64) @ pts  # (T, 2, P)
    return np.linalg.norm(moved - pts[:2], axis=1).mean(axis=1)


def compose_with_alignment(alignment: np.ndarray,
                           warps: np.ndarray) -> np.ndarray:
    """(T, 2, 3) inverse maps (output -> frame) of alignment-then-warp.

    ``alignment`` (2, 3) maps frame -> output; ``warps`` (T, 2, 3) map the
    output onto each aligned frame (ECC convention). Output pixel ``x`` reads
    the frame at ``A^-1 (W_t x)``.
    """
    a = np.vstack([np.asarray(alignment, dtype=np.float64), [0, 0, 1]])
    a_inv = np.linalg.inv(a)
    w = np.concatenate([np.asarray(warps, dtype=np.float64),
                        np.tile([[[0, 0, 1]]], (len(warps), 1, 1))], axis=1)
    return (a_inv[None] @ w)[:, :2]
