"""Face crop of a whole clip at the frames' resolution (one box, OpenCV
Haar cascade). ``tools/demo.py --face box`` uses the preprocessing's
``detector='box'`` instead (the same box, scaled to the face size).

The detector lives in :mod:`mmakm.preprocessing.face`; landmark alignment
(eye line levelled, fixed inter-ocular distance) is
:func:`mmakm.preprocessing.preprocess_clip`.
"""
import warnings
from typing import Optional, Sequence

import numpy as np

from mmakm.preprocessing.face import Box, detect_face_box

__all__ = ['detect_face_box', 'crop_frames', 'face_crop']


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
