"""Load a still face image (macro-expression corpora) as a one-frame clip."""
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from .loading import read_image


def clip_face_box(box: Sequence, height: int, width: int
                  ) -> Optional[Tuple[int, int, int, int]]:
    """``(x0, y0, x1, y1)`` of the face box ``(x, y, w, h)`` clipped to a
    ``height`` × ``width`` image; None when nothing of it is inside."""
    x, y, w, h = (int(v) for v in box)
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, width), min(y + h, height)
    return None if x1 <= x0 or y1 <= y0 else (x0, y0, x1, y1)


def box_outside_message(box: Sequence, height: int, width: int,
                        path: str) -> str:
    x, y, w, h = (int(v) for v in box)
    return (f'face box (x={x}, y={y}, w={w}, h={h}) lies outside the '
            f'{width}x{height} image {path}')


@TRANSFORMS.register_module()
class LoadFaceImage(BaseTransform):
    """Read a sample's image, crop its face box, and make it a 1-frame clip.

    Reads ``img_path`` (or takes the inline ``img`` array of FER2013),
    crops ``bbox`` ``(x, y, w, h)`` when the sample has one (AffectNet; the
    box is clipped to the image), and sets ``imgs`` to ``[HxWx3 uint8 RGB]``
    (grayscale replicated to 3 channels) with ``num_clips = clip_len = 1``,
    so MMAction2's spatial transforms, ``FormatShape('NCHW')`` and
    ``PackActionInputs`` treat it like a clip of one frame.

    Required keys: ``img_path`` or ``img``; optional ``bbox``, ``where``.
    Added keys: ``imgs``, ``img_shape``, ``original_shape``, ``num_clips``,
    ``clip_len``, ``modality``.
    """

    def transform(self, results: dict) -> dict:
        where = results.get('where', '')
        if results.get('img') is not None:
            img = np.asarray(results['img'])
        else:
            img = read_image(results['img_path'], context=where)
        if img.ndim == 2 or img.shape[2] == 1:
            img = np.repeat(img.reshape(img.shape[:2])[..., None], 3, axis=2)
        box = results.get('bbox')
        if box is not None:
            inside = clip_face_box(box, *img.shape[:2])
            if inside is None:
                raise ValueError(f'{where}: ' + box_outside_message(
                    box, *img.shape[:2], results.get('img_path', '')))
            x0, y0, x1, y1 = inside
            img = img[y0:y1, x0:x1]
        img = np.ascontiguousarray(img)
        results.update(imgs=[img], img_shape=img.shape[:2],
                       original_shape=img.shape[:2], num_clips=1, clip_len=1,
                       modality='RGB')
        return results
