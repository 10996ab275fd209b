"""RAF-DB basic emotions (Li et al. 2017) as shipped:
``EmoLabel/list_patition_label.txt`` and ``Image/aligned/*_aligned.jpg``
(or the uncropped ``Image/original/*.jpg``)."""
import os.path as osp
from typing import List, Optional

from mmaction.registry import DATASETS

from ..annotation_io import read_text
from ..class_setups import VOCABULARIES
from .base import FaceImageDataset

SPLITS = ('train', 'test')
#: image set -> (folder, suffix of the file name before the extension)
IMAGE_SETS = {'aligned': ('Image/aligned', '_aligned'),
              'original': ('Image/original', '')}


@DATASETS.register_module()
class RAFDBDataset(FaceImageDataset):
    """RAF-DB basic, aligned 100×100 faces, 4 classes by default.

    Each line of ``list_patition_label.txt`` (sic, the shipped name) is
    ``<split>_<number>.jpg <label>`` with labels 1-7: 1 surprise, 2 fear,
    3 disgust, 4 happiness, 5 sadness, 6 anger, 7 neutral; the aligned image
    is ``Image/aligned/<split>_<number>_aligned.jpg``, the original one
    ``Image/original/<split>_<number>.jpg``.

    Args:
        ann_file (str): Defaults to ``'EmoLabel/list_patition_label.txt'``.
        data_prefix (dict): Defaults to the folder of ``images``.
        split (str, optional): ``'train'``, ``'test'`` or None (both).
        images (str): ``'aligned'`` (``*_aligned.jpg``) or ``'original'``
            (uncropped, the name as listed). Defaults to ``'aligned'``.
        (others: :class:`FaceImageDataset`)
    """
    CORPUS = 'rafdb'

    def __init__(self,
                 ann_file: str = 'EmoLabel/list_patition_label.txt',
                 data_prefix=None,
                 split: Optional[str] = 'train',
                 images: str = 'aligned',
                 **kwargs) -> None:
        if split is not None and split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS} or None, got '
                             f'{split!r}')
        if images not in IMAGE_SETS:
            raise ValueError(f'images must be one of {tuple(IMAGE_SETS)}, '
                             f'got {images!r}')
        self.split = split
        folder, self.suffix = IMAGE_SETS[images]
        super().__init__(ann_file=ann_file,
                         data_prefix=data_prefix or dict(img=folder),
                         **kwargs)

    def split_filter(self) -> dict:
        return dict(split=self.split)

    def parse_records(self) -> List[dict]:
        names = VOCABULARIES[self.CORPUS]
        records = []
        lines = read_text(self.ann_file).splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f'{self.ann_file}, line {number}'
            parts = line.split()
            stem, ext = osp.splitext(parts[0])
            split = stem.split('_')[0]
            if (len(parts) != 2 or split not in SPLITS
                    or ext.lower() != '.jpg'):
                self.bad(f'{where}: malformed line {line.strip()!r}; '
                         "expected '<train|test>_<number>.jpg <label>'")
                continue
            if parts[1] not in {str(i + 1) for i in range(len(names))}:
                self.bad(f'{where}: unknown label {parts[1]!r}; expected '
                         f'1-{len(names)} (' + ', '.join(
                             f'{i + 1} {e}' for i, e in enumerate(names))
                         + ')')
                continue
            if self.split is not None and split != self.split:
                continue
            records.append(dict(
                emotion=names[int(parts[1]) - 1], where=where,
                img_path=self.image_path(f'{stem}{self.suffix}{ext}')))
        return records
