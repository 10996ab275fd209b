"""FaceImageDataset: shared logic of the macro-expression image corpora.

Each corpus class parses its shipped annotation into *records*; here they
are validated, mapped to classes (``class_setup``, default the paper's 4
classes), filtered by split and subsampled per class:

1. a record whose expression is outside the corpus' codes, or whose image is
   missing, is a bad sample: an error naming the file, row and what was
   expected (``on_bad_sample='skip'``: skipped and listed in
   :attr:`skipped` and the log);
2. an expression that maps to no class (e.g. AffectNet's *None* /
   *Uncertain* / *No-Face* under ``'paper4'``) is excluded: counted, listed
   in :attr:`excluded` and reported in the log, never dropped silently;
3. ``per_class=N`` keeps N records of each class drawn with ``seed`` (the
   paper: 1000 AffectNet images per class); a class with fewer keeps all
   (reported). Only the images drawn are checked for existence, so a
   missing image outside the draw does not stop a run.

A record is a dict with ``emotion`` (canonical name), ``where`` (file and
row), and either ``img_path`` or ``pixels`` (a callable returning the image:
FER2013 stores images inline and only the sampled ones are decoded), and
optionally ``bbox`` ``(x, y, w, h)`` of the face in the image.
"""
import copy
import os.path as osp
from collections import Counter
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from ..base import BadSampleError
from ..class_setups import VOCABULARIES, resolve_class_setup


class FaceImageDataset(BaseDataset):
    """Base class of the still facial-expression datasets.

    Samples are dicts with ``img_path`` (or ``img``, an HxW / HxWx3 uint8
    array), ``label``, ``emotion``, ``corpus``, ``bbox`` (``(x, y, w, h)``
    or None) and ``where``; :class:`LoadFaceImage` turns them into a
    one-frame clip.

    Args:
        ann_file (str): the corpus' annotation file (relative to
            ``data_root``).
        pipeline (list): data transforms.
        data_root (str): corpus root folder.
        data_prefix (dict): ``img``: image folder relative to ``data_root``.
        class_setup (str | dict): ``'paper4'`` (positive / negative /
            surprise / others; neutral -> others), ``'raw'`` or an
            expression -> class dict (see
            :mod:`mmakm.datasets.class_setups`). Defaults to ``'paper4'``.
        per_class (int, optional): keep at most this many samples of each
            class, drawn with ``seed``. Defaults to None (all).
        seed (int): seed of the per-class draw. Defaults to 0.
        on_bad_sample (str): ``'error'`` or ``'skip'``. Defaults to
            ``'error'``.
    """
    CORPUS = 'faces'

    def __init__(self,
                 ann_file: str = '',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 class_setup: Union[str, dict] = 'paper4',
                 per_class: Optional[int] = None,
                 seed: int = 0,
                 on_bad_sample: str = 'error',
                 **kwargs) -> None:
        if on_bad_sample not in ('error', 'skip'):
            raise ValueError(f"on_bad_sample must be 'error' or 'skip', got "
                             f'{on_bad_sample!r}')
        if per_class is not None and per_class < 1:
            raise ValueError(f'per_class must be >= 1 or None, got '
                             f'{per_class}')
        self.class_setup = copy.deepcopy(class_setup)
        self.per_class = per_class
        self.seed = seed
        self.on_bad_sample = on_bad_sample
        self.skipped: List[dict] = []
        self.excluded: List[dict] = []
        super().__init__(
            ann_file,
            pipeline=list(pipeline),
            data_root=data_root,
            data_prefix=dict(data_prefix or dict(img='')),
            **kwargs)

    # ------------------------------------------------------------------
    def parse_records(self) -> List[dict]:
        """Parse the shipped annotation into records (see module doc)."""
        raise NotImplementedError

    def bad(self, message: str, exc_type=BadSampleError) -> None:
        """Raise, or record a skipped sample when ``on_bad_sample='skip'``."""
        if self.on_bad_sample == 'error':
            raise exc_type(message)
        self.skipped.append(dict(reason=message))

    def image_path(self, relative: str) -> str:
        return osp.join(self.data_prefix.get('img', ''), relative)

    # ------------------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        records = self.parse_records()
        classes, mapping = resolve_class_setup(self.class_setup, self.CORPUS,
                                               VOCABULARIES[self.CORPUS])
        self._metainfo['classes'] = classes
        self._metainfo['corpus'] = self.CORPUS
        by_class = {c: [] for c in classes}
        for order, r in enumerate(records):
            r['order'] = order
            cls = mapping.get(r['emotion'])
            if cls is None:
                self.excluded.append(dict(
                    where=r['where'], emotion=r['emotion'],
                    reason=f"expression '{r['emotion']}' maps to no class"))
            else:
                by_class[cls].append(r)
        rng = np.random.default_rng(self.seed)
        chosen = []
        for label, cls in enumerate(classes):
            pool = by_class[cls]
            want = len(pool) if self.per_class is None else self.per_class
            if want < len(pool):
                # a seeded order; only the images drawn are checked (a
                # skipped one is replaced by the next in that order)
                pool = [pool[i] for i in rng.permutation(len(pool))]
            kept = []
            for r in pool:
                if len(kept) == want:
                    break
                if 'img_path' in r and not osp.isfile(r['img_path']):
                    self.bad(f"{r['where']}: image not found: "
                             f"{r['img_path']}", FileNotFoundError)
                else:
                    kept.append(r)
            if len(kept) < want:
                print_log(f'{type(self).__name__}: class {cls!r} has '
                          f'{len(kept)} < per_class={self.per_class} '
                          'usable samples; all kept', logger='current')
            chosen += [(label, r) for r in kept]
        chosen.sort(key=lambda lr: lr[1]['order'])
        data_list = []
        for label, r in chosen:
            sample = self._to_sample(r, label)
            if sample is not None:
                data_list.append(sample)
        self._report(len(records))
        return data_list

    def _to_sample(self, r: dict, label: int) -> Optional[dict]:
        sample = dict(label=label, emotion=r['emotion'], corpus=self.CORPUS,
                      bbox=r.get('bbox'), where=r['where'])
        if 'pixels' in r:
            try:
                sample['img'] = r['pixels']()
            except ValueError as exc:
                self.bad(f"{r['where']}: {exc}")
                return None
            return sample
        sample['img_path'] = r['img_path']
        return sample

    def _report(self, n_parsed: int) -> None:
        name = type(self).__name__
        if self.excluded:
            counts = Counter(e['emotion'] for e in self.excluded)
            print_log(f'{name}: {len(self.excluded)} of {n_parsed} samples '
                      f'excluded (no class under class_setup '
                      f'{self.class_setup!r}): {dict(counts)}',
                      logger='current')
        if self.skipped:
            print_log(f'{name}: {len(self.skipped)} bad samples skipped: ' +
                      '; '.join(s['reason'] for s in self.skipped[:20]),
                      logger='current')

    def class_counts(self) -> dict:
        """Number of samples per class name."""
        classes = self.metainfo['classes']
        counts = Counter(self.get_data_info(i)['label']
                         for i in range(len(self)))
        return {c: counts.get(i, 0) for i, c in enumerate(classes)}

    def get_cat_ids(self, idx: int) -> List[int]:
        return [self.get_data_info(idx)['label']]


def int_cell(row, field: str, low: int = 0, high: Optional[int] = None,
             what: str = 'an integer') -> int:
    """Integer cell of a :class:`TableRow` in ``[low, high]``; a ValueError
    naming the file, row and field otherwise."""
    value = row.get(field)
    try:
        number = float(str(value).strip())
        ok = number.is_integer()
    except ValueError:
        ok = False
    if ok and low <= number and (high is None or number <= high):
        return int(number)
    bound = f'>= {low}' if high is None else f'in {low}..{high}'
    raise ValueError(f'{row.where}: {field} must be {what} {bound}, got '
                     f'{value!r}')
