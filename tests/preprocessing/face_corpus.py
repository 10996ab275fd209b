"""A CASME II-layout corpus made from a real face photograph with known
head poses (for the preprocessing tests).

The face is scikit-image's ``astronaut()`` photograph (shipped in the
wheel). Each clip places it in 640x480 frames with a known similarity
transform (rotation, scale, translation) and animates a small known local
deformation (mouth corners raised by a few px, onset -> apex -> offset).
Optionally the head drifts by a known translation per frame.
"""
import os
import os.path as osp
import sys

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from fabricate import write_xlsx  # noqa: E402

from mmakm.preprocessing.face import (canonical_eye_distance,  # noqa: E402
                                      map_points)

FRAME_W, FRAME_H = 640, 480
# Pupil centres (x, y) in astronaut(), annotated by hand on a 5x zoom.
PHOTO_EYES = np.array([[203.5, 101.0], [246.5, 103.5]])
PHOTO_MOUTH = np.array([223.0, 146.0])
PHOTO_IOD = float(np.hypot(*(PHOTO_EYES[1] - PHOTO_EYES[0])))

# (subject, clip, onset, apex, offset, emotion, angle deg, scale,
#  eye-midpoint position in the frame)
CLIPS = [
    (1, 'EP01_01', 10, 12, 14, 'happiness', -10.0, 2.0, (300.0, 200.0)),
    (1, 'EP02_02', 30, 31, 33, 'surprise', 6.0, 2.2, (350.0, 215.0)),
    (2, 'EP03_01', 5, 7, 9, 'disgust', 0.0, 1.8, (320.0, 190.0)),
    (2, 'EP04_02', 50, 52, 54, 'others', 12.0, 2.1, (280.0, 230.0)),
]


def photo() -> np.ndarray:
    from skimage import data
    return np.ascontiguousarray(data.astronaut())  # (512, 512, 3) RGB


def placement(angle: float, scale: float, eye_mid) -> np.ndarray:
    """(2, 3) photo -> frame matrix: rotate by ``angle`` (deg, counter-
    clockwise on screen) and scale about the eye midpoint, move it to
    ``eye_mid``."""
    centre = PHOTO_EYES.mean(0)
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle,
                                scale)
    m[:, 2] += np.asarray(eye_mid, dtype=np.float64) - centre
    return m


def deformed(img: np.ndarray, amount: float, sigma: float = 9.0):
    """``img`` with content near the mouth corners moved up by up to
    ``amount`` px (Gaussian falloff)."""
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    bump = np.zeros((h, w), np.float32)
    for dx in (-21.0, 21.0):  # the two mouth corners
        cx, cy = PHOTO_MOUTH[0] + dx, PHOTO_MOUTH[1] - 5
        bump += np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma ** 2))
    return cv2.remap(img, xs, ys + amount * bump, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT)


def make_clip(n_frames: int, angle: float, scale: float, eye_mid,
              deform_px: float = 1.5, drift=None):
    """``(frames (T, 480, 640, 3) uint8 RGB, matrices (T, 2, 3))``.

    ``drift`` (T, 2): per-frame head translation in frame px (default 0).
    The deformation rises to ``deform_px`` at the middle frame and falls.
    """
    src = photo()
    base = placement(angle, scale, eye_mid)
    drift = np.zeros((n_frames, 2)) if drift is None else np.asarray(drift)
    ramp = 1 - np.abs(np.linspace(-1, 1, n_frames))
    frames, mats = [], []
    for t in range(n_frames):
        m = base.copy()
        m[:, 2] += drift[t]
        img = deformed(src, deform_px * ramp[t])
        frames.append(cv2.warpAffine(img, m, (FRAME_W, FRAME_H),
                                     flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REFLECT))
        mats.append(m)
    return np.stack(frames), np.stack(mats)


def make_face_casme2(root: str, clips=CLIPS, drift_px: float = 0.0,
                     seed: int = 0, faceless=()) -> dict:
    """Write the corpus (coding xlsx + ``CASME2_RAW/subXX/CLIP/imgN.jpg``,
    JPEG quality 95) and return clip_id -> ground truth (placement
    matrices, frame numbers). ``drift_px``: per-frame head jitter
    (uniform in +-drift_px, seeded). Clips named in ``faceless`` show an
    empty grey wall instead of the face."""
    rng = np.random.default_rng(seed)
    header = ('Subject', 'Filename', 'OnsetFrame', 'ApexFrame', 'OffsetFrame',
              'Action Units', 'Estimated Emotion')
    write_xlsx(osp.join(root, 'CASME2-coding-20140508.xlsx'),
               [header] + [(s, c, on, ap, off, '12', emo)
                           for s, c, on, ap, off, emo, *_ in clips])
    truth = {}
    for sub, clip, on, ap, off, _, angle, scale, mid in clips:
        n = off - on + 1
        drift = rng.uniform(-drift_px, drift_px, (n, 2)) if drift_px else None
        if drift is not None:
            drift[0] = 0  # the onset is the reference
        frames, mats = make_clip(n, angle, scale, mid, drift=drift)
        if clip in faceless:
            frames[:] = 128
        folder = osp.join(root, 'CASME2_RAW', f'sub{sub:02d}', clip)
        os.makedirs(folder, exist_ok=True)
        for i, img in enumerate(frames):
            ok = cv2.imwrite(osp.join(folder, f'img{on + i}.jpg'),
                             img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
            assert ok
        truth[clip] = dict(matrices=mats, frame_numbers=np.arange(on, off + 1),
                           angle=angle, scale=scale, eye_mid=mid)
    return truth


#: the aligned crop the tests check (default margin 0.1) and where its
#: eyes belong: symmetric about the centre column, the average face
#: centred vertically
CROP = 144
CROP_IOD = canonical_eye_distance(CROP, 0.1)
EXPECTED_EYES = np.array([[CROP / 2 - CROP_IOD / 2, CROP / 2 - 0.52 * CROP_IOD],
                          [CROP / 2 + CROP_IOD / 2, CROP / 2 - 0.52 * CROP_IOD]])


def eye_error(info: dict, placement: np.ndarray) -> float:
    """Max distance (crop px) of the true pupils of the face placed by
    ``placement`` (photo -> frame), through the estimated alignment
    ``info['matrix']``, from where they belong (image-left first: a
    mirrored face swaps them)."""
    eyes = map_points(np.asarray(info['matrix']),
                      map_points(placement, PHOTO_EYES))
    eyes = eyes[np.argsort(eyes[:, 0])]
    return float(np.abs(eyes - EXPECTED_EYES).max())


# ----------------------------------------------------------------------
# the face alone on a plain background (frames of any size, a face that
# can leave the frame)
def face_mask() -> np.ndarray:
    """(512, 512) float32 soft ellipse around the face of ``photo()``."""
    mask = np.zeros((512, 512), np.float32)
    cv2.ellipse(mask, (225, 115), (75, 100), 0, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(mask, (0, 0), 6)


def background(h: int, w: int, seed: int = 0) -> np.ndarray:
    """(h, w, 3) uint8 smooth random colour wall."""
    coarse = np.random.default_rng(seed).integers(
        60, 200, (h // 32 + 1, w // 32 + 1, 3)).astype(np.uint8)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def make_face_on_wall(n_frames: int, angle: float, scale: float, eye_mid,
                      frame_size=(FRAME_W, FRAME_H), motion=None,
                      seed: int = 0):
    """``(frames (T, H, W, 3) uint8 RGB, matrices (T, 2, 3))``: the face of
    ``photo()`` (elliptic cut-out, no expression) placed on a wall.

    ``motion`` (T, 3): per-frame head motion (rotation deg about the eye
    midpoint, dx, dy frame px) added to the placement (default: none).
    Outside the frame the face is simply cut off, so a large dx moves it
    out of the picture.
    """
    w, h = frame_size
    wall = background(h, w, seed).astype(np.float32)
    motion = np.zeros((n_frames, 3)) if motion is None else np.asarray(
        motion, dtype=np.float64)
    frames, mats = [], []
    for t in range(n_frames):
        da, dx, dy = motion[t]
        m = placement(angle + da, scale,
                      (eye_mid[0] + dx, eye_mid[1] + dy))
        frames.append(to_uint8(paste_face(wall, m)))
        mats.append(m)
    return np.stack(frames), np.stack(mats)


def paste_face(canvas: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32 ``canvas`` with the face of ``photo()`` (elliptic
    cut-out) pasted by the (2, 3) photo -> frame ``matrix``."""
    h, w = canvas.shape[:2]
    img = cv2.warpAffine(photo().astype(np.float32), matrix, (w, h),
                         flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(face_mask(), matrix, (w, h),
                           flags=cv2.INTER_LINEAR)[..., None]
    return img * alpha + canvas * (1 - alpha)


def mirrored(matrix: np.ndarray) -> np.ndarray:
    """The photo -> frame ``matrix`` of the photo mirrored left-right
    first (the true eyes are still ``map_points(result, PHOTO_EYES)``)."""
    flip = np.array([[-1.0, 0, 511], [0, 1, 0], [0, 0, 1]])
    return (np.vstack([matrix, [0, 0, 1]]) @ flip)[:2]


def to_uint8(img: np.ndarray) -> np.ndarray:
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)
