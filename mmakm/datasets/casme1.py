"""CASME I, read as shipped (one coding xlsx per section).

Layout (per section)::

    <data_root>/<section ann_file>.xlsx   Subject, Filename, OnsetF, ApexF1,
                                          ApexF2, OffsetF, Emotion
    <data_root>/<img>/sub01/EP01_5/<...N>.jpg   (frame number = last integer
                                                 of the file name)

Both sections can be read at once with ``sections=[dict(ann_file=...,
img=...), dict(...)]``; otherwise ``ann_file`` and ``data_prefix['img']``
describe one section. ApexF1 is the apex.
"""
import os.path as osp
from typing import List, Optional

from mmaction.registry import DATASETS

from .annotation_io import read_table
from .base import MEBaseDataset

CASME1_FIELDS = dict(
    subject=['Subject'], filename=['Filename'],
    onset=['OnsetF', 'Onset Frame', 'OnsetFrame', 'Onset'],
    apex=['ApexF1', 'ApexF', 'Apex Frame', 'ApexFrame', 'Apex'],
    apex2=['ApexF2'],
    offset=['OffsetF', 'Offset Frame', 'OffsetFrame', 'Offset'],
    emotion=['Emotion', 'Estimated Emotion'])
CASME1_REQUIRED = ('subject', 'filename', 'onset', 'apex', 'offset',
                   'emotion')


@DATASETS.register_module()
class CASME1Dataset(MEBaseDataset):
    """CASME I (19 subjects, 189 clips, 60 fps).

    Args:
        sections (list[dict], optional): ``dict(ann_file, img)`` per section
            (paths relative to ``data_root``).
        sheet (str, optional): sheet name (default: the first sheet).
        **kwargs: see :class:`MEBaseDataset`.
    """
    CORPUS = 'casme1'
    FPS = 60.0
    SUBJECT_ID = ('sub', 'sub{:02d}')

    def __init__(self, ann_file: str = '', sections: Optional[List[dict]] = None,
                 sheet: Optional[str] = None, **kwargs):
        self.sections = [dict(s) for s in sections] if sections else None
        self.sheet = sheet
        super().__init__(ann_file=ann_file, **kwargs)

    def _join(self, path):
        return path if osp.isabs(path) or not self.data_root else \
            osp.join(self.data_root, path)

    def parse_records(self):
        if self.sections:
            sections = [(self._join(s['ann_file']),
                         self._join(s.get('img', ''))) for s in self.sections]
        else:
            sections = [(self.ann_file, self.data_prefix['img'])]
        records = []
        for ann, img in sections:
            for _, sub, rec in self.row_records(read_table(
                    ann, CASME1_FIELDS, CASME1_REQUIRED, sheet=self.sheet)):
                clip = rec['clip_id']
                rec['frame_dir'] = osp.join(self.subject_dir(img, sub), clip)
                records.append(rec)
        return records
