"""AffectNet (Mollahosseini et al. 2017), manually annotated part, as
shipped: ``training.csv`` / ``validation.csv`` and
``Manually_Annotated_Images/<subDirectory_filePath>``."""
from typing import List

from mmaction.registry import DATASETS

from ..annotation_io import cell_str, read_table
from ..class_setups import VOCABULARIES
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

    Args:
        ann_file (str): ``'training.csv'`` or ``'validation.csv'``.
        data_prefix (dict): ``img``: the image folder. Defaults to
            ``dict(img='Manually_Annotated_Images')``.
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
