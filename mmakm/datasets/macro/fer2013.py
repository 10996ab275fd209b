"""FER2013 (Goodfellow et al. 2013) as shipped: ``fer2013.csv`` with
``emotion, pixels, Usage`` columns, 48×48 grayscale images inline."""
from typing import List, Optional, Sequence

import numpy as np
from mmaction.registry import DATASETS

from ..annotation_io import cell_str, read_table
from ..class_setups import VOCABULARIES
from ..errors import CorpusError
from .base import FaceImageDataset, int_cell

SIZE = 48
USAGES = ('Training', 'PublicTest', 'PrivateTest')


def _decode_pixels(text: str, where: str) -> np.ndarray:
    """(48, 48) uint8 image of a space-separated pixel string."""
    expected = (f'pixels must be {SIZE * SIZE} space-separated integers '
                '0-255')
    try:
        values = np.array(text.split(), dtype=np.int64)
    except (AttributeError, ValueError):
        raise ValueError(f'{where}: {expected}, got a value that is no '
                         f'integer ({text[:40]!r}...)') from None
    if values.size != SIZE * SIZE:
        raise ValueError(f'{where}: {expected}, got {values.size} values')
    if values.min() < 0 or values.max() > 255:
        raise ValueError(f'{where}: {expected}, got values '
                         f'{values.min()}..{values.max()}')
    return values.astype(np.uint8).reshape(SIZE, SIZE)


@DATASETS.register_module()
class FER2013Dataset(FaceImageDataset):
    """FER2013 faces, 4 classes by default.

    ``emotion`` codes 0-6: 0 anger, 1 disgust, 2 fear, 3 happiness,
    4 sadness, 5 surprise, 6 neutral. Only the pixel strings of the samples
    kept (after ``per_class``) are decoded.

    Args:
        ann_file (str): Defaults to ``'fer2013.csv'``.
        usage (list[str], optional): rows to keep by their ``Usage``
            (``'Training'``, ``'PublicTest'``, ``'PrivateTest'``); None:
            every row (also for CSVs without the column). Defaults to
            ``('Training',)``.
        (others: :class:`FaceImageDataset`)
    """
    CORPUS = 'fer2013'

    def __init__(self, ann_file: str = 'fer2013.csv',
                 usage: Optional[Sequence[str]] = ('Training', ),
                 **kwargs) -> None:
        if usage is not None:
            unknown = set(usage) - set(USAGES)
            if unknown:
                raise ValueError(f'unknown usage {sorted(unknown)}; expected '
                                 f'a subset of {USAGES}')
        self.usage = None if usage is None else tuple(usage)
        super().__init__(ann_file=ann_file, **kwargs)

    def split_filter(self) -> dict:
        return dict(usage=self.usage)

    def parse_records(self) -> List[dict]:
        fields = dict(emotion=('emotion', ), pixels=('pixels', ),
                      usage=('Usage', ))
        names = VOCABULARIES[self.CORPUS]
        codes = ', '.join(f'{i} {e}' for i, e in enumerate(names))
        usages = {u.lower(): u for u in USAGES}
        records = []
        rows = read_table(self.ann_file, fields, required=['emotion',
                                                           'pixels'])
        if self.usage and rows and 'usage' not in rows[0]:
            raise CorpusError(
                f'{self.ann_file}: no Usage column, so no {list(self.usage)} '
                'rows; expected the columns emotion, pixels, Usage (a copy '
                "without Usage, such as Kaggle's train.csv: usage=None)")
        for row in rows:
            try:
                code = int_cell(row, 'emotion', 0, len(names) - 1,
                                f'an emotion code ({codes})')
                usage = row.get('usage')
                usage = usages.get(str(usage).strip().lower(), usage)
                if self.usage and usage not in USAGES:
                    raise ValueError(f'{row.where}: unknown Usage {usage!r}; '
                                     f'expected one of {USAGES}')
                text = cell_str(row, 'pixels')
            except ValueError as exc:
                self.bad(str(exc))
                continue
            if self.usage and usage not in self.usage:
                continue
            records.append(dict(
                emotion=names[code], where=row.where,
                pixels=lambda t=text, w=row.where: _decode_pixels(t, w)))
        return records
