"""AffectNet (Mollahosseini et al. 2017), manually annotated part, as
shipped: ``training.csv`` / ``validation.csv`` and
``Manually_Annotated_Images/<subDirectory_filePath>``; or the later
release's ``train_set`` / ``val_set`` folders (``images/<id>.jpg``, cropped
faces, and ``annotations/<id>_exp.npy``)."""
import os
import os.path as osp
import re
from typing import List

import numpy as np
from mmaction.registry import DATASETS

from ..annotation_io import cell_str, read_table
from ..class_setups import VOCABULARIES
from ..errors import MissingFileError
from .base import FaceImageDataset, int_cell

_FIELDS = {
    'path': ('subDirectory_filePath',),
    'face_x': ('face_x',),
    'face_y': ('face_y',),
    'face_width': ('face_width',),
    'face_height': ('face_height',),
    'expression': ('expression',),
}
#: the shipped CSVs' columns, in order (read by position from a copy
#: saved without its header row)
COLUMNS = ('subDirectory_filePath', 'face_x', 'face_y', 'face_width',
           'face_height', 'facial_landmarks', 'expression', 'valence',
           'arousal')
_CODES = ', '.join(f'{i} {e}' for i, e in enumerate(VOCABULARIES['affectnet']))


@DATASETS.register_module()
class AffectNetDataset(FaceImageDataset):
    """AffectNet images with their face box, 4 classes by default.

    Columns of the shipped CSVs (header row): ``subDirectory_filePath,
    face_x, face_y, face_width, face_height, facial_landmarks, expression,
    valence, arousal`` (a copy without the header row is read in this
    order). Expression codes 0-10: 0 neutral, 1 happiness,
    2 sadness, 3 surprise, 4 fear, 5 disgust, 6 anger, 7 contempt, 8 none,
    9 uncertain, 10 no-face. Under ``'paper4'`` 8-10 are excluded (and
    reported) and neutral counts as *others*. The face box crops the image
    (:class:`LoadFaceImage`). The paper trains on 1000 images per class:
    ``per_class=1000``.

    The later release (``ann_file='train_set'`` or ``'val_set'``, a folder)
    has one ``annotations/<id>_exp.npy`` per image ``images/<id>.jpg``
    (already cropped: no face box), codes 0-7 as above.

    Args:
        ann_file (str): ``'training.csv'`` or ``'validation.csv'``; or the
            ``train_set`` / ``val_set`` folder of the later release.
        data_prefix (dict): ``img``: the image folder of the CSV release.
            Defaults to ``dict(img='Manually_Annotated_Images')``.
        (others: :class:`FaceImageDataset`)
    """
    CORPUS = 'affectnet'

    def __init__(self, ann_file: str = 'training.csv', data_prefix=None,
                 **kwargs) -> None:
        super().__init__(
            ann_file=ann_file,
            data_prefix=data_prefix or dict(img='Manually_Annotated_Images'),
            **kwargs)

    def parse_records(self) -> List[dict]:
        if osp.isdir(self.ann_file):
            return self._parse_set_folder(self.ann_file)
        records = []
        names = VOCABULARIES[self.CORPUS]
        for row in read_table(self.ann_file, _FIELDS, required=list(_FIELDS),
                              headerless=COLUMNS):
            try:
                code = int_cell(row, 'expression', 0, len(names) - 1,
                                f'an expression code ({_CODES})')
                bbox = tuple(
                    int_cell(row, f) for f in ('face_x', 'face_y',
                                               'face_width', 'face_height'))
                if bbox[2] < 1 or bbox[3] < 1:
                    raise ValueError(f'{row.where}: empty face box {bbox}; '
                                     'expected face_width, face_height >= 1')
                path = cell_str(row, 'path')
            except ValueError as exc:
                self.bad(str(exc))
                continue
            records.append(dict(emotion=names[code], bbox=bbox,
                                img_path=self.image_path(path),
                                where=row.where))
        return records

    def _parse_set_folder(self, folder: str) -> List[dict]:
        """Records of a ``train_set`` / ``val_set`` folder, by image id."""
        ann_dir = osp.join(folder, 'annotations')
        if not osp.isdir(ann_dir):
            raise MissingFileError(
                f'{folder}: no annotations folder; expected the AffectNet '
                'set layout images/<id>.jpg + annotations/<id>_exp.npy')
        names = VOCABULARIES[self.CORPUS]
        ids = sorted((m.group(1) for m in map(
            re.compile(r'(\d+)_exp\.npy').fullmatch, os.listdir(ann_dir))
            if m), key=int)
        records = []
        for image_id in ids:
            where = osp.join(ann_dir, f'{image_id}_exp.npy')
            try:
                value = np.load(where, allow_pickle=False)
                text = str(value.reshape(-1)[0]).strip() if value.size == 1 \
                    else ''
            except (EOFError, OSError, ValueError) as exc:
                text = f'an unreadable file ({exc})'
            try:
                code = float(text)
            except ValueError:
                code = -1.0
            if not (code.is_integer() and 0 <= code < 8):
                self.bad(f'{where}: expected one expression code 0-7 '
                         f'({_CODES[:_CODES.index(", 8")]}), got '
                         f'{text or value!r}')
                continue
            records.append(dict(
                emotion=names[int(code)], where=where,
                img_path=osp.join(folder, 'images', f'{image_id}.jpg')))
        return records
