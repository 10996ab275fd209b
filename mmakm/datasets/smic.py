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
from mmengine.logging import print_log

from .annotation_io import scan_frames
from .base import MEBaseDataset
from .errors import CorpusError, MissingFileError

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
    SUBJECT_ID = ('s', 's{}')

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

    def parse_records(self):
        root = self.data_prefix['img']
        if not osp.isdir(root):  # 'hs' for 'HS': the one folder in any case
            parent, name = osp.split(osp.normpath(root))
            near = [d for d in (os.listdir(parent) if osp.isdir(parent)
                                else []) if d.lower() == name.lower()
                    and osp.isdir(osp.join(parent, d))]
            if len(near) != 1:
                raise MissingFileError(f'SMIC {self.subset} folder not '
                                       f'found: {root}')
            root = osp.join(parent, near[0])
        records, no_micro = [], []
        subjects = sorted((d for d in _subfolders(root)
                           if re.fullmatch(r's\d+', d, flags=re.I)),
                          key=lambda d: int(d[1:]))
        ids = {}
        for sub in subjects:
            ids.setdefault(self.normalize_subject(sub), []).append(sub)
        twins = {k: v for k, v in ids.items() if len(v) > 1}
        if twins:  # one subject's clips in two trees: a copy to resolve
            raise CorpusError(
                f'{root}: ' + '; '.join(
                    f'folders {", ".join(v)} all name subject {k}'
                    for k, v in twins.items()) +
                '; expected one folder per subject')
        for sub in subjects:
            # 'micro' in any case: the tree is the annotation, a subject
            # folder must not be passed over for the case of a name
            micro = [d for d in _subfolders(osp.join(root, sub))
                     if d.lower() == 'micro']
            if len(micro) != 1:
                no_micro.append(sub)  # subjects without micro-expressions
                continue
            micro = osp.join(root, sub, micro[0])
            for emotion in _subfolders(micro):
                edir = osp.join(micro, emotion)
                for clip in _subfolders(edir):
                    cdir = osp.join(edir, clip)
                    try:
                        frames = scan_frames(cdir)
                    except ValueError as exc:
                        self.bad(str(exc))
                        continue
                    if not frames:
                        self.bad(f'{cdir}: clip folder holds no images '
                                 '(expected image<number>.bmp/.jpg)')
                        continue
                    bare = self.normalize_subject(sub)
                    records.append(dict(
                        subject=f'{self.CORPUS}/{bare}',
                        clip_id=clip, emotion=emotion,
                        onset=min(frames), apex=-1, offset=max(frames),
                        where=cdir, frame_dir=cdir, frame_map=frames,
                        # clip names repeat across HS/VIS/NIR
                        cache_key=f'{self.CORPUS}/{self.subset}/{bare}/'
                        f'{clip}'))
        if no_micro:
            print_log(f'SMICDataset: subject folders without a micro '
                      f'folder (no micro-expression clips) in {root}: '
                      f'{", ".join(no_micro)}', logger='current', level=20)
        if not records and not self.skipped:
            raise CorpusError(
                f'{root}: no SMIC clip found; expected '
                f'<subject>/micro/<class>/<clip>/image<number>.bmp with '
                f'subject folders s1, s2, ... (found: '
                f'{", ".join(_subfolders(root)[:5]) or "nothing"})')
        return records


def _subfolders(folder: str) -> list:
    """Sorted visible subfolders (no ``.hidden`` / ``__MACOSX`` folders of
    archives)."""
    return sorted(d for d in os.listdir(folder)
                  if not d.startswith(('.', '__'))
                  and osp.isdir(osp.join(folder, d)))
