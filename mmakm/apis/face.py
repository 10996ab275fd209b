"""One face box for a whole clip, from OpenCV's bundled Haar cascade.

ME clips are short and the head barely moves, so a single crop (the median
of the per-frame detections) keeps the subtle motion between frames intact,
which a per-frame crop would drown in box jitter.
"""
import os.path as osp
import warnings
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

CASCADE = 'haarcascade_frontalface_default.xml'

Box = Tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)


def _cascade() -> cv2.CascadeClassifier:
    path = osp.join(cv2.data.haarcascades, CASCADE)
    clf = cv2.CascadeClassifier(path)
    if clf.empty():
        raise RuntimeError(f'cannot load the OpenCV face cascade {path}')
    return clf


def detect_face_box(frames: Sequence[np.ndarray], max_probe: int = 16,
                    margin: float = 0.15,
                    min_size_ratio: float = 0.15) -> Optional[Box]:
    """Median face box over up to ``max_probe`` evenly spaced frames.

    Frames are RGB (HxWx3) or gray (HxW / HxWx1) uint8. In each probed frame
    the largest detection counts. The median box is enlarged by ``margin``
    on every side, made square and clipped to the image. None if no frame
    has a face.
    """
    if not len(frames):
        return None
    clf = _cascade()
    h, w = np.asarray(frames[0]).shape[:2]
    min_side = max(12, int(min_size_ratio * min(h, w)))
    boxes = []
    probe = np.unique(np.linspace(0, len(frames) - 1,
                                  min(max_probe, len(frames))).round().astype(int))
    for i in probe:
        img = np.asarray(frames[i])
        gray = (cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
                if img.ndim == 3 and img.shape[2] == 3 else img.reshape(h, w))
        found = clf.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5,
                                     minSize=(min_side, min_side))
        if len(found):
            x, y, bw, bh = max(found, key=lambda b: b[2] * b[3])
            boxes.append((x, y, x + bw, y + bh))
    if not boxes:
        return None
    x0, y0, x1, y1 = np.median(np.asarray(boxes, dtype=np.float64), axis=0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    side = min(side, w, h)
    x0 = int(round(min(max(cx - side / 2, 0), w - side)))
    y0 = int(round(min(max(cy - side / 2, 0), h - side)))
    s = int(round(side))
    return x0, y0, x0 + s, y0 + s


def crop_frames(frames: Sequence[np.ndarray], box: Optional[Box]) -> list:
    """Apply one box to every frame (None: frames unchanged)."""
    if box is None:
        return list(frames)
    x0, y0, x1, y1 = box
    return [np.ascontiguousarray(np.asarray(f)[y0:y1, x0:x1]) for f in frames]


def face_crop(frames: Sequence[np.ndarray], enabled: bool = True):
    """``(cropped frames, box or None)``; warns and keeps the full frame
    when no face is found."""
    if not enabled:
        return list(frames), None
    box = detect_face_box(frames)
    if box is None:
        warnings.warn('no face found by the OpenCV Haar cascade: using the '
                      'full frame (pass --no-face-crop to silence this)')
    return crop_frames(frames, box), box
