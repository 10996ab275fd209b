"""Fabricate tiny copies of the macro-expression image corpora in their
shipped layouts (AffectNet, RAF-DB basic, FER2013), for tests.

Every ``make_*`` function writes under ``root`` and returns ``root``.
"""
import csv
import os
import os.path as osp

import cv2
import numpy as np

AFFECTNET_HEADER = ('subDirectory_filePath', 'face_x', 'face_y',
                    'face_width', 'face_height', 'facial_landmarks',
                    'expression', 'valence', 'arousal')
# (folder/file, (x, y, w, h), expression code): every code 0-10 once, plus
# more happiness / surprise for the per-class draw
AFFECTNET_ROWS = [
    ('689/a0.jpg', (4, 6, 20, 22), 0),
    ('689/a1.jpg', (0, 0, 30, 30), 1),
    ('689/a2.jpg', (2, 2, 10, 12), 2),
    ('12/a3.JPG', (5, 5, 16, 16), 3),
    ('12/a4.jpg', (1, 3, 18, 20), 4),
    ('12/a5.png', (3, 1, 22, 18), 5),
    ('7/a6.jpg', (0, 2, 24, 24), 6),
    ('7/a7.jpg', (6, 4, 14, 14), 7),
    ('7/a8.jpg', (2, 2, 20, 20), 8),
    ('7/a9.jpg', (2, 2, 20, 20), 9),
    ('7/a10.jpg', (2, 2, 20, 20), 10),
    ('9/b1.jpg', (1, 1, 20, 20), 1),
    ('9/b2.jpg', (2, 2, 20, 20), 1),
    ('9/b3.jpg', (3, 3, 20, 20), 1),
    ('9/b4.jpg', (4, 4, 20, 20), 3),
]
IMAGE_SIZE = (32, 40)  # h, w of the fabricated AffectNet images


def _write_image(path, h, w, seed):
    os.makedirs(osp.dirname(path), exist_ok=True)
    img = np.random.default_rng(seed).integers(0, 256, (h, w, 3), np.uint8)
    ok, buf = cv2.imencode(osp.splitext(path)[1].lower(), img)
    assert ok
    buf.tofile(path)


def make_affectnet(root, rows=AFFECTNET_ROWS, ann_file='training.csv',
                   images=True):
    """``training.csv`` (header + rows, 68-point landmark strings) and
    ``Manually_Annotated_Images/<folder>/<file>``."""
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, ann_file), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(AFFECTNET_HEADER)
        for i, (path, box, code) in enumerate(rows):
            landmarks = ';'.join(f'{v:.2f}' for v in np.linspace(0, 30, 136))
            writer.writerow([path, *box, landmarks, code, '0.5', '-0.25'])
            if images:
                _write_image(
                    osp.join(root, 'Manually_Annotated_Images', path),
                    *IMAGE_SIZE, seed=i)
    return root


def make_affectnet_set(root, codes, folder='train_set'):
    """The later AffectNet release: ``<folder>/images/<id>.jpg`` (cropped
    faces) and ``<folder>/annotations/<id>_exp.npy`` (the code as a numpy
    string, like ``_val``/``_aro``/``_lnd`` beside it), ids 0.. in order."""
    ann = osp.join(root, folder, 'annotations')
    os.makedirs(ann, exist_ok=True)
    for i, code in enumerate(codes):
        np.save(osp.join(ann, f'{i}_exp.npy'), np.array(str(code)))
        np.save(osp.join(ann, f'{i}_val.npy'), np.array('0.25'))
        _write_image(osp.join(root, folder, 'images', f'{i}.jpg'), 24, 24,
                     seed=i)
    return osp.join(root, folder)


# (name, label 1-7): RAF-DB basic's list_patition_label.txt
RAFDB_ROWS = [('train_00001.jpg', 4), ('train_00002.jpg', 1),
              ('train_00003.jpg', 5), ('train_00004.jpg', 7),
              ('train_00005.jpg', 6), ('train_00006.jpg', 2),
              ('train_00007.jpg', 3), ('test_0001.jpg', 4),
              ('test_0002.jpg', 1), ('test_0003.jpg', 7)]


def make_rafdb(root, rows=RAFDB_ROWS):
    """``EmoLabel/list_patition_label.txt`` + ``Image/aligned/
    <name>_aligned.jpg`` (100×100 like the shipped aligned faces)."""
    os.makedirs(osp.join(root, 'EmoLabel'), exist_ok=True)
    with open(osp.join(root, 'EmoLabel', 'list_patition_label.txt'),
              'w') as f:
        for i, (name, label) in enumerate(rows):
            f.write(f'{name} {label}\n')
            stem = osp.splitext(name)[0]
            _write_image(osp.join(root, 'Image', 'aligned',
                                  f'{stem}_aligned.jpg'), 100, 100, seed=i)
    return root


# (emotion 0-6, Usage)
FER2013_ROWS = [(3, 'Training'), (0, 'Training'), (5, 'Training'),
                (6, 'Training'), (4, 'Training'), (3, 'PublicTest'),
                (5, 'PrivateTest'), (1, 'Training'), (2, 'Training')]


def fer_pixels(i):
    """The 48×48 image of row ``i`` (0-based) written by make_fer2013."""
    return ((np.arange(48 * 48) * (i + 1)) % 256).astype(np.uint8).reshape(
        48, 48)


def make_fer2013(root, rows=FER2013_ROWS, pixels=None):
    """``fer2013.csv``: header ``emotion,pixels,Usage``; ``pixels`` maps a
    row index to a replacement pixel string (malformed rows)."""
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, 'fer2013.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['emotion', 'pixels', 'Usage'])
        for i, (emotion, usage) in enumerate(rows):
            text = ' '.join(map(str, fer_pixels(i).ravel()))
            if pixels and i in pixels:
                text = pixels[i]
            writer.writerow([emotion, text, usage])
    return root
