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
import functools
import sys
from typing import Tuple

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


# ----------------------------------------------------------------------
# real faces of many people: scikit-image's LFW subset (25 px faces)
#: the face side in the frames (the 25 px faces upscaled 8x) and the frame
LFW_SCALE, LFW_FRAME = 8, 400
#: median eye centres (x, y) of the 25 px faces (the face mesh on the 95
#: it aligns, std about 1 px) and the mouth below them, in 25 px units
LFW_EYES = np.array([[6.4, 8.6], [15.3, 8.6]])
LFW_MOUTH = np.array([10.85, 18.6])
LFW_IOD = float(LFW_EYES[1, 0] - LFW_EYES[0, 0]) * LFW_SCALE  # 71 px
#: what a clip event changes (``lfw_clip``), with the unit of its amount
LFW_EVENTS = {
    'blink': 'upper lids moved down by amount IOD (0.12: a real blink)',
    'expression': 'mouth corners raised by amount IOD (micro: 0.03)',
    'smile': 'mouth corners up and out by amount IOD (macro: 0.12)',
    'open_mouth': 'jaw dropped by amount IOD, the gap dark (macro: 0.2)',
    'brightness': 'frame gain (0.7-1.3: light changes)',
    'noise': 'sensor noise sigma (grey levels)',
    'swap': 'the face of LFW person amount at the same place',
    'cover': 'a box of grey level amount over the lower face',
    'leave': 'the head moved by amount px to the right (out of the frame)',
}


@functools.lru_cache(maxsize=1)
def lfw_faces() -> np.ndarray:
    """(100, 25, 25) float in [0, 1]: the first 100 entries of
    ``skimage.data.lfw_subset()``, the faces of 100 people."""
    from skimage.data import lfw_subset
    return lfw_subset()[:100]


def _lfw_points(points) -> np.ndarray:
    """Points (N, 2) of the 25 px face in the upscaled face's px."""
    return (np.asarray(points, dtype=np.float64) + 0.5) * LFW_SCALE - 0.5


def lfw_face_image(i: int) -> np.ndarray:
    """(200, 200) float32 grey face of LFW person ``i``, 0..255."""
    side = 25 * LFW_SCALE
    return cv2.resize(lfw_faces()[i].astype(np.float32) * 255, (side, side),
                      interpolation=cv2.INTER_CUBIC)


def lfw_placement(angle: float = 0.0, dx: float = 0.0,
                  dy: float = 0.0) -> np.ndarray:
    """(2, 3) upscaled face -> frame matrix: the face centred in the
    frame, rotated by ``angle`` (deg) about its eye midpoint and moved by
    (dx, dy) px."""
    eye_mid = _lfw_points(LFW_EYES).mean(0)
    m = cv2.getRotationMatrix2D((float(eye_mid[0]), float(eye_mid[1])),
                                angle, 1.0)
    m[:, 2] += (LFW_FRAME - 25 * LFW_SCALE) / 2 + np.array([dx, dy])
    return m


def _shifted(img: np.ndarray, bumps) -> np.ndarray:
    """``img`` (H, W) with content near each bump moved: ``bumps`` is a
    list of ((x, y) centre, sigma, (dx, dy)) in px, Gaussian falloff."""
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    flow_x, flow_y = np.zeros_like(xs), np.zeros_like(ys)
    for (cx, cy), sigma, (fx, fy) in bumps:
        g = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma ** 2))
        flow_x += fx * g
        flow_y += fy * g
    # read from where the content came from: it moves by the flow
    return cv2.remap(img, xs - flow_x, ys - flow_y, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def lfw_event_face(face: np.ndarray, kind: str, amount: float) -> np.ndarray:
    """The (200, 200) upscaled ``face`` changed by one face event of
    :data:`LFW_EVENTS` (frame-level events leave it as it is)."""
    iod = LFW_IOD
    eyes, mouth = _lfw_points(LFW_EYES), _lfw_points(LFW_MOUTH[None])[0]
    corners = [mouth + (s * 0.4 * iod, 0) for s in (-1, 1)]
    if kind == 'blink':  # the upper lid (above the eye) slides down
        return _shifted(face, [(e - (0, 0.08 * iod), 0.12 * iod,
                                (0, amount * iod)) for e in eyes])
    if kind == 'expression':
        return _shifted(face, [(c, 0.15 * iod, (0, -amount * iod))
                               for c in corners])
    if kind == 'smile':
        return _shifted(face, [(c, 0.25 * iod, (np.sign(c[0] - mouth[0]) *
                                                 amount * iod, -amount * iod))
                               for c in corners])
    if kind == 'open_mouth':  # chin and lower lip down, a dark gap
        out = _shifted(face, [(mouth + (0, 0.6 * iod), 0.6 * iod,
                               (0, amount * iod))])
        gap = np.zeros_like(out)
        cv2.ellipse(gap, (int(mouth[0]), int(mouth[1] + amount * iod / 2)),
                    (int(0.35 * iod), max(1, int(amount * iod / 2))), 0, 0,
                    360, 1.0, -1)
        gap = cv2.GaussianBlur(gap, (0, 0), 2)
        return out * (1 - gap) + 30 * gap
    if kind == 'swap':
        return lfw_face_image(int(amount))
    if kind == 'cover':  # from below the nose to below the chin
        out = face.copy()
        x0, x1 = int(mouth[0] - 0.8 * iod), int(mouth[0] + 0.8 * iod)
        out[int(mouth[1] - 0.35 * iod):, x0:x1] = amount
        return out
    return face


def lfw_frame(i: int, angle: float = 0.0, dx: float = 0.0, dy: float = 0.0,
              events=(), rng=None) -> Tuple[np.ndarray, np.ndarray]:
    """``(frame (400, 400, 3) uint8 RGB, matrix (2, 3))``: the face of LFW
    person ``i`` placed by :func:`lfw_placement` (edges repeated around
    it) with ``events`` ((kind, amount) pairs of :data:`LFW_EVENTS`).
    ``rng`` draws the sensor noise."""
    face = lfw_face_image(i)
    gain, sigma = 1.0, 0.0
    for kind, amount in events:
        if kind == 'leave':
            dx += amount
        elif kind == 'brightness':
            gain = amount
        elif kind == 'noise':
            sigma = amount
        elif kind not in LFW_EVENTS:
            raise ValueError(f'unknown event {kind!r}')
        else:
            face = lfw_event_face(face, kind, amount)
    m = lfw_placement(angle, dx, dy)
    pad = (LFW_FRAME - face.shape[0]) // 2
    # the face's edges repeated around it, then placed: moved away by
    # `leave`, the frame shows the repeated edge where the face was
    face = cv2.copyMakeBorder(face, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    shift = np.array([[1, 0, pad], [0, 1, pad], [0, 0, 1]], np.float64)
    full = (np.vstack([m, [0, 0, 1]]) @ np.linalg.inv(shift))[:2]
    img = cv2.warpAffine(face, full, (LFW_FRAME, LFW_FRAME),
                         flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE) * gain
    if sigma:
        img += sigma * (rng or np.random.default_rng(0)).standard_normal(
            img.shape, dtype=np.float32)
    return np.repeat(to_uint8(img)[..., None], 3, axis=2), m


def lfw_clip(i: int, n_frames: int, drift=(0.0, 0.0), events=(),
             at=(0.0, 0.0), seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """``(frames (T, 400, 400, 3) uint8 RGB, matrices (T, 2, 3))``: a clip
    of LFW person ``i``.

    ``drift`` (deg, px): per-frame head roll and shift, uniform in
    +-drift (seeded; none in the onset, the reference). ``at`` (dx,
    dy): the head moved by that many px in every frame (e.g. near an
    edge of the frame). ``events``:
    (kind, first, stop, amount) of :data:`LFW_EVENTS` in frames
    ``first <= t < stop``. ``matrices`` map the upscaled face (200 px,
    eyes at ``(LFW_EYES + 0.5) * 8 - 0.5``) into each frame.
    """
    rng = np.random.default_rng(seed)
    motion = rng.uniform(-1, 1, (n_frames, 3)) * [drift[0], drift[1],
                                                 drift[1]]
    motion[0] = 0
    motion[:, 1:] += at
    frames, mats = [], []
    for t in range(n_frames):
        now = [(k, a) for k, first, stop, a in events if first <= t < stop]
        img, m = lfw_frame(i, *motion[t], events=now, rng=rng)
        frames.append(img)
        mats.append(m)
    return np.stack(frames), np.stack(mats)


def lfw_on_wall(i: int, side: int, corner=(300, 200),
                frame_size=(FRAME_W, FRAME_H)
                ) -> Tuple[np.ndarray, np.ndarray]:
    """``(frame (H, W, 3) uint8 RGB, matrix (2, 3))``: the face of LFW
    person ``i`` resized to ``side`` px, its top-left at ``corner``, on a
    plain wall; ``matrix`` maps the 200 px face of :func:`lfw_frame`
    into the frame."""
    face = cv2.resize(lfw_faces()[i].astype(np.float32) * 255, (side, side),
                      interpolation=cv2.INTER_CUBIC)
    w, h = frame_size
    wall = background(h, w, seed=i).astype(np.float32)
    x0, y0 = corner
    wall[y0:y0 + side, x0:x0 + side] = face[..., None]
    s = side / (25 * LFW_SCALE)
    matrix = np.array([[s, 0, 0.5 * s - 0.5 + x0], [0, s, 0.5 * s - 0.5 + y0]])
    return to_uint8(wall), matrix
