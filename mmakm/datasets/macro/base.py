"""FaceImageDataset: shared logic of the macro-expression image corpora.

Each corpus class parses its shipped annotation into *records*; here they
are validated, mapped to classes (``class_setup``, default the paper's 4
classes), filtered by split and subsampled per class:

1. a record whose expression is outside the corpus' codes, or whose image is
   missing, empty, truncated, corrupt or not an image, or whose face box
   lies outside its image, is a bad sample: an error naming the file, row
   and what was expected (``on_bad_sample='skip'``: skipped and listed in
   :attr:`skipped` and the log). Images are found whatever the case of their
   extension, or with another image extension (``a1.JPG`` / ``a1.png`` for
   ``a1.jpg``); a name differing in case is an error naming the file there;
2. an expression that maps to no class (e.g. AffectNet's *None* /
   *Uncertain* / *No-Face* under ``'paper4'``) is excluded: counted, listed
   in :attr:`excluded` and reported in the log, never dropped silently;
3. ``per_class=N`` keeps N records of each class drawn with ``seed`` (the
   paper: 1000 AffectNet images per class); a class with fewer keeps all
   (reported). Only the samples drawn are checked (image header read, no
   decoding; FER2013 pixel strings decoded), so a bad sample outside the
   draw does not stop a run; with ``'skip'`` a bad one is replaced by the
   next of its class in the seeded order;
4. no sample left is an error saying why (rows read, excluded, skipped).

A record is a dict with ``emotion`` (canonical name), ``where`` (file and
row), and either ``img_path`` or ``pixels`` (a callable returning the image:
FER2013 stores images inline and only the sampled ones are decoded), and
optionally ``bbox`` ``(x, y, w, h)`` of the face in the image.
"""
import copy
import os
import os.path as osp
from collections import Counter
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from ..annotation_io import IMAGE_EXTS
from ..base import _case_hint
from ..class_setups import VOCABULARIES, resolve_class_setup
from ..errors import BadSampleError, CorpusError, MissingFileError
from ..integrity import read_image_size
from ..transforms.face_image import box_outside_message, clip_face_box


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
        check_images (bool): read the header of every image drawn (empty,
            truncated, corrupt, not an image; the face box inside it), so
            a bad image stops the run when the dataset is built, not
            mid-epoch. Defaults to True.
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
                 check_images: bool = True,
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
        self.check_images = check_images
        self._listings: Dict[str, Dict[str, List[str]]] = {}
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
                # a seeded order; only the samples drawn are checked (a
                # bad one is replaced by the next in that order)
                pool = [pool[i] for i in rng.permutation(len(pool))]
            kept = []
            for r in pool:
                if len(kept) == want:
                    break
                sample = self._checked_sample(r, label)
                if sample is not None:
                    kept.append(sample)
            if len(kept) < want:
                print_log(f'{type(self).__name__}: class {cls!r} has '
                          f'{len(kept)} < per_class={self.per_class} '
                          'usable samples; all kept', logger='current')
            chosen += kept
        self._listings.clear()
        chosen.sort(key=lambda s: s.pop('order'))
        self._report(len(records))
        if not chosen:
            raise CorpusError(self._no_samples_message(len(records)))
        return chosen

    def _checked_sample(self, r: dict, label: int) -> Optional[dict]:
        """The sample of record ``r``, or None (skipped) when its image or
        pixel string is unusable (an error with ``on_bad_sample='error'``).
        """
        sample = dict(label=label, emotion=r['emotion'], corpus=self.CORPUS,
                      bbox=r.get('bbox'), where=r['where'], order=r['order'])
        if 'pixels' in r:
            try:
                sample['img'] = r['pixels']()
            except ValueError as exc:
                self.bad(str(exc))
                return None
            return sample
        try:
            path = self._find_image(r['img_path'], r['where'])
        except MissingFileError as exc:
            self.bad(str(exc), MissingFileError)
            return None
        if self.check_images:
            try:
                height, width = read_image_size(path)
            except ValueError as exc:
                self.bad(f"{r['where']}: {exc}")
                return None
            if r.get('bbox') is not None and clip_face_box(
                    r['bbox'], height, width) is None:
                self.bad(f"{r['where']}: " + box_outside_message(
                    r['bbox'], height, width, path))
                return None
        sample['img_path'] = path
        return sample

    def _find_image(self, path: str, where: str) -> str:
        """``path``, or the one image beside it with the same name and
        another image extension or extension case; MissingFileError
        naming ``where`` otherwise."""
        if osp.isfile(path):
            return path
        folder, name = osp.split(path)
        stem = osp.splitext(name)[0]
        if folder not in self._listings:  # one listing per folder, on a miss
            listing: Dict[str, List[str]] = {}
            if osp.isdir(folder):
                for n in os.listdir(folder):
                    s, ext = osp.splitext(n)
                    if ext.lower() in IMAGE_EXTS and not n.startswith('.'):
                        listing.setdefault(s, []).append(n)
            self._listings[folder] = listing
        names = sorted(self._listings[folder].get(stem, ()))
        if len(names) == 1:
            return osp.join(folder, names[0])
        detail = (f' ({" and ".join(names)} exist there: expected one image '
                  'of that name)' if names else _case_hint(path))
        raise MissingFileError(f'{where}: image not found: {path}{detail}')

    def _no_samples_message(self, n_parsed: int) -> str:
        filters = ', '.join(f'{k}={v!r}' for k, v in self.split_filter()
                            .items())
        parts = [f'{n_parsed} annotated samples read' +
                 (f' ({filters})' if filters else ''),
                 f'{len(self.excluded)} excluded by the class setup '
                 f'({dict(Counter(e["emotion"] for e in self.excluded))})'
                 if self.excluded else '',
                 f'{len(self.skipped)} bad samples skipped'
                 if self.skipped else '']
        return (f'{type(self).__name__}: no samples in {self.ann_file} ('
                + '; '.join(p for p in parts if p) + '); expected at least '
                f'one sample of the class setup {self.class_setup!r}')

    def split_filter(self) -> dict:
        """The split selection of the corpus (named when nothing is left)."""
        return {}

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
