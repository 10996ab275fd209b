"""SMIC (HS / VIS / NIR), read from its folder tree (no annotation file).

Layout::

    <data_root>/HS/s3/micro/negative/s3_ne_03/image123456.bmp

The class is the folder under ``micro`` (positive / negative / surprise);
onset / offset are the first / last frame of the clip folder; there is no
apex (``apex = -1``). A gap in the frame numbers is a missing frame.
"""
import os
import os.path as osp
import re
from typing import Optional

from mmaction.registry import DATASETS

from .annotation_io import scan_frames
from .base import MEBaseDataset

_SUBSET_FPS = dict(HS=100.0, VIS=25.0, NIR=25.0)


@DATASETS.register_module()
class SMICDataset(MEBaseDataset):
    """SMIC-HS (16 subjects, 164 clips, 100 fps), -VIS / -NIR (25 fps).

    Args:
        subset (str): ``'HS'``, ``'VIS'`` or ``'NIR'``; the folder under
            ``data_root`` (override with ``data_prefix=dict(img=...)``).
        **kwargs: see :class:`MEBaseDataset`.
    """
    CORPUS = 'smic'
    FPS = 100.0

    def __init__(self, subset: str = 'HS', data_prefix: Optional[dict] = None,
                 fps: Optional[float] = None, **kwargs):
        subset = subset.upper()
        if subset not in _SUBSET_FPS:
            raise ValueError(f"subset must be 'HS', 'VIS' or 'NIR', got "
                             f'{subset!r}')
        self.subset = subset
        prefix = dict(img=subset)
        prefix.update(data_prefix or {})
        super().__init__(data_prefix=prefix,
                         fps=fps if fps is not None else _SUBSET_FPS[subset],
                         **kwargs)

    def normalize_subject(self, subject) -> str:
        if isinstance(subject, float) and subject.is_integer():
            subject = int(subject)
        m = re.fullmatch(r's?0*(\d+)', str(subject).strip(), flags=re.I)
        return f's{int(m.group(1))}' if m else str(subject).strip()

    def parse_records(self):
        root = self.data_prefix['img']
        if not osp.isdir(root):
            raise FileNotFoundError(f'SMIC {self.subset} folder not found: '
                                    f'{root}')
        records = []
        subjects = sorted((d for d in os.listdir(root)
                           if re.fullmatch(r's\d+', d, flags=re.I)),
                          key=lambda d: int(d[1:]))
        for sub in subjects:
            micro = osp.join(root, sub, 'micro')
            if not osp.isdir(micro):
                continue  # subjects without micro-expressions
            for emotion in sorted(os.listdir(micro)):
                edir = osp.join(micro, emotion)
                if not osp.isdir(edir):
                    continue
                for clip in sorted(os.listdir(edir)):
                    cdir = osp.join(edir, clip)
                    if not osp.isdir(cdir):
                        continue
                    try:
                        frames = scan_frames(cdir)
                    except ValueError as exc:
                        self.bad(str(exc))
                        continue
                    if not frames:
                        self.bad(f'{cdir}: clip folder holds no images '
                                 '(expected image<number>.bmp/.jpg)')
                        continue
                    records.append(dict(
                        subject=f'{self.CORPUS}/{self.normalize_subject(sub)}',
                        clip_id=clip, emotion=emotion,
                        onset=min(frames), apex=-1, offset=max(frames),
                        where=cdir, frame_dir=cdir, frame_map=frames,
                        # clip names repeat across HS/VIS/NIR
                        cache_key=f'{self.CORPUS}/{self.subset}/'
                        f'{self.normalize_subject(sub)}/{clip}'))
        return records
