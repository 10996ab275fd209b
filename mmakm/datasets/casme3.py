"""CAS(ME)^3 part A, read as shipped.

Layout::

    <data_root>/cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx
        Subject (spNO.1), Filename (a), Onset, Apex, Offset, AU,
        Objective class, emotion
    <data_root>/<img>/spNO.1/a/color/123.jpg
"""
import os.path as osp
from typing import Optional

from mmaction.registry import DATASETS

from .annotation_io import read_table
from .base import MEBaseDataset

CASME3_FIELDS = dict(
    subject=['Subject'], filename=['Filename'],
    onset=['Onset', 'Onset Frame', 'OnsetFrame'],
    apex=['Apex', 'Apex Frame', 'ApexFrame'],
    offset=['Offset', 'Offset Frame', 'OffsetFrame'],
    aus=['AU'], objective=['Objective class'],
    emotion=['emotion', 'Estimated Emotion'])
CASME3_REQUIRED = ('subject', 'filename', 'onset', 'apex', 'offset',
                   'emotion')


@DATASETS.register_module()
class CASME3Dataset(MEBaseDataset):
    """CAS(ME)^3 part A (94 subjects, 860 clips, 30 fps).

    Args:
        ann_file (str): default
            ``'cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx'``.
        modality_dir (str): folder under the clip with the frames
            (``'color'``).
        sheet (str, optional): default: the first sheet.
        **kwargs: see :class:`MEBaseDataset`.
    """
    CORPUS = 'casme3'
    FPS = 30.0
    SUBJECT_ID = (r'spNO\.', 'spNO.{}')

    def __init__(self,
                 ann_file: str = 'cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx',
                 modality_dir: str = 'color', sheet: Optional[str] = None,
                 **kwargs):
        self.modality_dir = modality_dir
        self.sheet = sheet
        super().__init__(ann_file=ann_file, **kwargs)

    def parse_records(self):
        records = []
        for _, sub, rec in self.row_records(read_table(
                self.ann_file, CASME3_FIELDS, CASME3_REQUIRED,
                sheet=self.sheet)):
            clip = rec['clip_id']
            rec.update(frame_dir=osp.join(
                self.subject_dir(self.data_prefix['img'], sub), clip,
                self.modality_dir),
                       frame_name='{}.jpg')
            records.append(rec)
        return records
