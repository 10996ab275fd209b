"""MEAnnotationDataset: any other corpus, from a CSV (or xlsx) table.

Columns (header names, case-insensitive): ``path`` (clip frame folder or
video file, relative to ``data_prefix['img']``/``data_root``), ``subject``,
``onset``, ``apex`` (empty, ``/`` or -1: unknown), ``offset``, ``label``
(the emotion; ``emotion`` is accepted too).

Paths written on Windows (``clips\\c1``) are read with ``/``. Frame
folders: the frame number of an image is the last integer of its file
name. Videos (a file, or a path ending ``.mp4``, ``.avi``, ``.m4v``,
...): onset/offset are frame numbers where video frame 0 has number
``video_start`` (default 0).
"""
import os.path as osp
from typing import Optional, Sequence

from mmaction.registry import DATASETS

from .annotation_io import VIDEO_EXTS, cell_str, read_table
from .base import MEBaseDataset
from .class_setups import canonical_emotion

GENERIC_FIELDS = dict(path=['path', 'filename', 'clip'], subject=['subject'],
                      onset=['onset', 'onsetframe'],
                      apex=['apex', 'apexframe'],
                      offset=['offset', 'offsetframe'],
                      emotion=['label', 'emotion', 'class'])
GENERIC_REQUIRED = ('path', 'subject', 'onset', 'offset', 'emotion')


@DATASETS.register_module()
class MEAnnotationDataset(MEBaseDataset):
    """Generic micro-expression dataset from a CSV annotation.

    Args:
        ann_file (str): the CSV (or xlsx) file.
        corpus (str): corpus name, also the subject prefix. Default
            ``'custom'``.
        fps (float, optional): frame rate (needed for millisecond stats).
        vocabulary (list[str], optional): the emotion vocabulary ('raw'
            class order); default: the sorted emotions of the whole file.
        video_start (int): frame number of video frame 0.
        **kwargs: see :class:`MEBaseDataset`.
    """

    def __init__(self, ann_file: str, corpus: str = 'custom',
                 vocabulary: Optional[Sequence[str]] = None,
                 video_start: int = 0, sheet: Optional[str] = None,
                 **kwargs):
        self.CORPUS = corpus
        self.VOCABULARY = (None if vocabulary is None else
                           tuple(canonical_emotion(v) for v in vocabulary))
        self.video_start = video_start
        self.sheet = sheet
        super().__init__(ann_file=ann_file, **kwargs)

    @property
    def vocabulary(self):
        return self.VOCABULARY  # None: the sorted emotions of the file

    def parse_records(self):
        records = []
        root = self.data_prefix.get('img', '')
        for row in read_table(self.ann_file, GENERIC_FIELDS, GENERIC_REQUIRED,
                              sheet=self.sheet):
            try:
                path = cell_str(row, 'path')
                if '\\' in path and not osp.exists(
                        path if osp.isabs(path) else osp.join(root, path)):
                    path = path.replace('\\', '/')  # written on Windows
                clip = osp.splitext(osp.basename(path.rstrip('/')))[0]
                sub, rec = self.row_record(row, clip_id=clip)
            except ValueError as exc:
                self.bad(str(exc))
                continue
            full = path if osp.isabs(path) else osp.join(root, path)
            # clip names may repeat across folders: cache by path
            rec['cache_key'] = (f"{rec['subject']}/"
                                f"{osp.splitext(path.strip('/'))[0]}")
            # a file is a video whatever its extension, a folder is frames
            # whatever its name
            if osp.isfile(full) or (not osp.isdir(full) and osp.splitext(
                    path)[1].lower() in VIDEO_EXTS):
                rec.update(filename=full, video_start=self.video_start)
            else:
                rec['frame_dir'] = full
            records.append(rec)
        return records
