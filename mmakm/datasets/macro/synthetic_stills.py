"""A small synthetic still-image expression corpus in RAF-DB's layout.

For a runnable pretraining demo without a licensed corpus: cartoon faces
(skin ellipse, eyes, brows, mouth) whose mouth and brows depend on the
expression, with random position, scale, tone, brightness and noise, written
as ``EmoLabel/list_patition_label.txt`` + ``Image/aligned/*_aligned.jpg``
exactly like RAF-DB basic, so :class:`RAFDBDataset` reads it. Byte-identical
for a given seed. Written into a temporary folder renamed into place, so an
interrupted run leaves no half-written corpus under ``root``.
"""
import json
import os
import os.path as osp
from typing import Optional

import cv2
import numpy as np

from ...engine.fileio import atomic_directory
from ..class_setups import VOCABULARIES
from ..synthetic import CorpusExistsError

#: generator arguments of a corpus, in its root
MARKER = '.mmakm_synthetic_stills.json'

# RAF-DB label (1-based) of each drawn expression
_LABELS = {e: i + 1 for i, e in enumerate(VOCABULARIES['rafdb'])}
EXPRESSIONS = ('happiness', 'sadness', 'surprise', 'neutral')


def _draw_face(rng: np.random.Generator, expression: str,
               size: int) -> np.ndarray:
    """(size, size, 3) uint8 BGR face with ``expression``."""
    bg = rng.integers(40, 200, 3).tolist()
    img = np.empty((size, size, 3), np.uint8)
    img[:] = bg
    s = size / 100.0
    cx = size / 2 + rng.normal(0, 3) * s
    cy = size / 2 + rng.normal(0, 3) * s
    scale = s * rng.uniform(0.85, 1.1)
    skin = (np.array([150, 180, 220]) * rng.uniform(0.6, 1.1)).clip(0, 255)

    def pt(x, y):
        return int(round(cx + x * scale)), int(round(cy + y * scale))

    def ln(v):
        return max(1, int(round(v * scale)))

    cv2.ellipse(img, pt(0, 0), (ln(34), ln(44)), 0, 0, 360, skin.tolist(),
                -1, cv2.LINE_AA)
    dark = (30, 30, 40)
    eye_open = 5 if expression == 'surprise' else 3
    brow_y = {'surprise': -28, 'sadness': -22}.get(expression, -22)
    for side in (-1, 1):
        cv2.ellipse(img, pt(13 * side, -10), (ln(5), ln(eye_open)), 0, 0, 360,
                    dark, -1, cv2.LINE_AA)
        # sad brows slant up towards the middle
        inner = brow_y - (5 if expression == 'sadness' else 0)
        cv2.line(img, pt(6 * side, inner), pt(20 * side, brow_y), dark, ln(2),
                 cv2.LINE_AA)
    if expression == 'happiness':
        cv2.ellipse(img, pt(0, 14), (ln(14), ln(9)), 0, 10, 170, dark, ln(2),
                    cv2.LINE_AA)
    elif expression == 'sadness':
        cv2.ellipse(img, pt(0, 26), (ln(13), ln(7)), 0, 190, 350, dark,
                    ln(2), cv2.LINE_AA)
    elif expression == 'surprise':
        cv2.ellipse(img, pt(0, 22), (ln(6), ln(9)), 0, 0, 360, dark, -1,
                    cv2.LINE_AA)
    else:
        cv2.line(img, pt(-11, 22), pt(11, 22), dark, ln(2), cv2.LINE_AA)
    img = img.astype(np.float32) * rng.uniform(0.8, 1.2)
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _made_with(root: str) -> Optional[dict]:
    """The arguments the corpus at ``root`` was made with (None: none)."""
    try:
        with open(osp.join(root, MARKER)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def make_synthetic_stills(root: str, seed: int = 0, per_class: int = 60,
                          test_per_class: int = 20, size: int = 64,
                          overwrite: bool = False) -> str:
    """Write the synthetic still corpus under ``root`` (RAF-DB layout).

    A corpus made with the same arguments is kept as it is; anything else
    at ``root`` (but an empty folder) is refused unless ``overwrite``.

    Args:
        root (str): output folder.
        seed (int): RNG seed (same seed, same bytes).
        per_class (int): training images per expression.
        test_per_class (int): test images per expression.
        size (int): image side in px.
        overwrite (bool): replace whatever is at ``root``.

    Returns:
        str: ``root``.

    Raises:
        CorpusExistsError: ``root`` holds something else.
    """
    params = dict(seed=seed, per_class=per_class,
                  test_per_class=test_per_class, size=size, version=1)
    if osp.exists(root) and not (osp.isdir(root) and not os.listdir(root)):
        found = _made_with(root)
        if found == params:
            return root
        if not overwrite:
            raise CorpusExistsError(root, found, params, marker=MARKER)
    rng = np.random.default_rng(seed)
    with atomic_directory(root) as tmp:
        img_dir = osp.join(tmp, 'Image', 'aligned')
        os.makedirs(img_dir)
        lines = []
        for split, n in (('train', per_class), ('test', test_per_class)):
            order = np.repeat(np.arange(len(EXPRESSIONS)), n)
            rng.shuffle(order)
            for i, k in enumerate(order, start=1):
                expression = EXPRESSIONS[k]
                name = f'{split}_{i:05d}'
                ok, buf = cv2.imencode(
                    '.jpg', _draw_face(rng, expression, size),
                    [cv2.IMWRITE_JPEG_QUALITY, 95])
                if not ok:
                    raise IOError(f'cannot encode {name} as JPEG')
                with open(osp.join(img_dir, f'{name}_aligned.jpg'),
                          'wb') as f:
                    f.write(buf.tobytes())
                lines.append(f'{name}.jpg {_LABELS[expression]}')
        os.makedirs(osp.join(tmp, 'EmoLabel'))
        with open(osp.join(tmp, 'EmoLabel', 'list_patition_label.txt'),
                  'w') as f:
            f.write('\n'.join(lines) + '\n')
        with open(osp.join(tmp, MARKER), 'w') as f:
            json.dump(params, f, sort_keys=True)
    return root
