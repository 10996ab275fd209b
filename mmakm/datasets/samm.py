"""SAMM, read as shipped.

Layout::

    <data_root>/SAMM_Micro_FACS_Codes_v2.xlsx   (sheet MICRO_ONLY; ~12 text
                                                 rows above the header row)
    <data_root>/006/006_1_2/006_05562.jpg       (grayscale; absolute,
                                                 zero-padded frame number)
"""
import os.path as osp
from typing import Optional

from mmaction.registry import DATASETS

from .annotation_io import read_table
from .base import MEBaseDataset

SAMM_FIELDS = dict(
    subject=['Subject'], filename=['Filename'],
    onset=['Onset Frame', 'OnsetFrame', 'Onset'],
    apex=['Apex Frame', 'ApexFrame', 'Apex'],
    offset=['Offset Frame', 'OffsetFrame', 'Offset'],
    aus=['Action Units'], emotion=['Estimated Emotion', 'Emotion'],
    objective=['Objective Classes'])
SAMM_REQUIRED = ('subject', 'filename', 'onset', 'apex', 'offset', 'emotion')


@DATASETS.register_module()
class SAMMDataset(MEBaseDataset):
    """SAMM (32 subjects, 159 micro clips, 200 fps, grayscale).

    Args:
        ann_file (str): default ``'SAMM_Micro_FACS_Codes_v2.xlsx'``.
        sheet (str): default ``'MICRO_ONLY'``.
        **kwargs: see :class:`MEBaseDataset`.
    """
    CORPUS = 'samm'
    FPS = 200.0
    SUBJECT_ID = ('', '{:03d}')

    def __init__(self, ann_file: str = 'SAMM_Micro_FACS_Codes_v2.xlsx',
                 sheet: Optional[str] = 'MICRO_ONLY', **kwargs):
        self.sheet = sheet
        super().__init__(ann_file=ann_file, **kwargs)

    def parse_records(self):
        rows = read_table(self.ann_file, SAMM_FIELDS, SAMM_REQUIRED,
                          sheet=self.sheet)
        records = []
        for _, sub, rec in self.row_records(rows):
            clip = rec['clip_id']
            rec.update(frame_dir=osp.join(
                self.subject_dir(self.data_prefix['img'], sub), clip),
                       frame_name=sub + '_{:05d}.jpg')
            records.append(rec)
        return records
