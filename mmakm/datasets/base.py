"""MEBaseDataset: shared sample, class-setup, subject-filter and check logic.

Each corpus class only parses its annotation format and layout into
*records* (:meth:`MEBaseDataset.parse_records`); everything else happens
here, in this order:

1. validate each record (onset <= apex <= offset, known emotion) -- a bad
   record raises an error naming the annotation file and row, or, with
   ``on_bad_sample='skip'``, is skipped and listed in the log and in
   :attr:`MEBaseDataset.skipped`;
2. map the emotion to a class of ``class_setup``; a record whose emotion maps
   to no class is *excluded*: counted, listed in :attr:`excluded` and
   reported in the log with the reason (never dropped silently); so is a
   record without an apex label when ``require_apex=True``;
3. keep the subjects asked for (``subjects`` / ``exclude_subjects``);
4. resolve and check every frame onset..offset (image file exists; video file
   exists, is long enough and decodes its last frame) -- missing files are
   bad samples as in 1.

A record is a dict with ``subject`` (corpus-prefixed), ``clip_id``,
``emotion`` (as annotated), ``onset``, ``apex`` (-1: unknown), ``offset``,
``where`` (annotation file and row, or folder, for messages) and one frame
source: ``frame_dir`` (folder scanned for images, frame number = last
integer of the file name; optional ``frame_pattern`` regex and
``frame_name`` format such as ``'img{}.jpg'`` for messages), ``frame_map``
(number -> path, already scanned) or ``filename`` (video) with
``video_start`` (the absolute frame number of video frame 0) and, where
that number comes from a frame folder, ``video_folder`` ((folder, first,
last) frame numbers: the video must hold exactly those frames).
"""
import copy
import os
import os.path as osp
import re
from collections import Counter, OrderedDict
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmaction.datasets.base import BaseActionDataset
from mmengine.logging import print_log

from .annotation_io import cell_int, cell_str, scan_frames
from .class_setups import VOCABULARIES, canonical_emotion, resolve_class_setup
from .errors import BadSampleError, CorpusError, MissingFileError
from .integrity import check_clip_frames
from .transforms.pipeline_check import (add_me_meta_keys,
                                       check_me_pipeline,
                                       check_sampleframes_span)
from .video import (VideoReadError, read_video_frames,
                    video_frame_count)


class MEBaseDataset(BaseActionDataset):
    """Base class of the micro-expression datasets.

    Args:
        ann_file (str): annotation file (relative to ``data_root``).
        pipeline (list): data transforms.
        data_root (str): corpus root folder.
        data_prefix (dict): ``img`` (frame folders) and, where supported,
            ``video`` (video files), relative to ``data_root``.
        class_setup (str | dict): ``'raw'``, ``'paper4'``, ``'std5'``,
            ``'megc3'`` or an emotion -> class dict (see
            :mod:`mmakm.datasets.class_setups`).
        subjects (list[str], optional): keep only these subjects (LOSO test
            fold). Ids may be corpus-prefixed (``'casme2/sub01'``) or bare
            (``'sub01'``, ``'01'``, ``1``).
        exclude_subjects (list[str], optional): drop these subjects (LOSO
            train fold).
        on_bad_sample (str): ``'error'`` (default): raise an error naming the
            file, row and what was expected; ``'skip'``: skip the sample and
            list it in the log and in :attr:`skipped`.
        check_frames (bool): check at load time that every frame file
            exists (cheap). Defaults to True.
        check_images (bool): with ``check_frames``, also check that every
            frame image is usable (:func:`~mmakm.datasets.integrity.
            check_clip_frames`: not empty, truncated or corrupt, same size
            as its clip; headers only, no decoding) and that a video
            sample's last frame decodes (a cut video can list frames it
            cannot decode), so a bad frame is an error -- or a skipped
            sample -- before training starts, not mid-epoch. Defaults to
            True.
        fps (float, optional): override the corpus frame rate.
        require_apex (bool): exclude (and report) the clips without an apex
            label, for models that need the apex (single apex frame).
            Defaults to False.
        cache_dir (str, optional): read the clips from this preprocessed
            frame cache (``tools/preprocess.py``: aligned, magnified,
            one ``.npy`` per clip) instead of the shipped frames; the
            annotation is still read from the corpus, the samples and
            metainfo are the same, only the frame source changes
            (``cache_file`` + ``cache_rows`` instead of ``frame_paths`` /
            ``filename``). A clip missing from the cache is a bad sample.
    """
    CORPUS = 'me'
    FPS: Optional[float] = None
    VOCABULARY: Optional[Sequence[str]] = None  # None: VOCABULARIES[CORPUS]
    #: ``(prefix regex, format)`` of the corpus' subject ids, e.g.
    #: ``('sub', 'sub{:02d}')``: a subject written as its number, with or
    #: without the prefix, zero-padded or not, as a number or as text
    #: (``1``, ``'01'``, ``'sub1'``, ``1.0``, ``'1.0'`` from a csv export)
    #: gives ``format.format(number)``; None: the id as written (trimmed)
    SUBJECT_ID: Optional[Tuple[str, str]] = None

    def __init__(self,
                 ann_file: str = '',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 class_setup: Union[str, dict] = 'raw',
                 subjects: Optional[Sequence] = None,
                 exclude_subjects: Optional[Sequence] = None,
                 on_bad_sample: str = 'error',
                 check_frames: bool = True,
                 check_images: bool = True,
                 fps: Optional[float] = None,
                 require_apex: bool = False,
                 cache_dir: Optional[str] = None,
                 **kwargs) -> None:
        if on_bad_sample not in ('error', 'skip'):
            raise ValueError(f"on_bad_sample must be 'error' or 'skip', got "
                             f'{on_bad_sample!r}')
        self.class_setup = copy.deepcopy(class_setup)
        self.subjects = None if subjects is None else list(subjects)
        self.exclude_subjects = list(exclude_subjects or [])
        self.on_bad_sample = on_bad_sample
        self.check_frames = check_frames
        self.check_images = check_images
        self.require_apex = require_apex
        self.fps = float(fps) if fps is not None else self.FPS
        # '~/data/casme2' in a config or --cfg-options means the home folder
        self.cache_dir = osp.expanduser(cache_dir) if cache_dir else None
        self.skipped: List[dict] = []
        self._subject_dirs: Dict[str, Dict[str, List[str]]] = {}
        self.excluded: List[dict] = []
        self.duplicates: List[dict] = []
        if data_prefix is None:
            data_prefix = dict(img='')
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        metainfo.setdefault('fps', self.fps)
        super().__init__(
            osp.expanduser(ann_file) if ann_file else ann_file,
            pipeline=list(pipeline),
            data_root=osp.expanduser(data_root) if data_root else data_root,
            data_prefix={k: osp.expanduser(v) if isinstance(v, str) else v
                         for k, v in data_prefix.items()},
            metainfo=metainfo,
            **kwargs)
        check_me_pipeline(self.pipeline.transforms, type(self).__name__)
        add_me_meta_keys(self.pipeline.transforms)

    # ------------------------------------------------------------------
    # to be implemented by the corpus classes
    def parse_records(self) -> List[dict]:
        """Parse the annotation/layout into records (see module doc)."""
        raise NotImplementedError

    def normalize_subject(self, subject) -> str:
        """Bare subject id as used in this corpus (e.g. ``'sub01'``; see
        :attr:`SUBJECT_ID`)."""
        s = str(subject).strip()
        if self.SUBJECT_ID is None:
            return s
        prefix, fmt = self.SUBJECT_ID
        m = re.fullmatch(rf'(?:{prefix})?0*(\d+)(?:\.0*)?', s, flags=re.I)
        return fmt.format(int(m.group(1))) if m else s

    def subject_dir(self, root: str, subject: str) -> str:
        """The folder of a (bare) subject under ``root``: ``root/subject``,
        or, when no folder has that name, the one folder of ``root`` that
        names the same subject another way (:attr:`SUBJECT_ID`: SAMM ``6``
        for ``006``, CASME II ``sub1`` or ``1`` for ``sub01``, SMIC ``s01``
        for ``s1``). Two such folders: ``root/subject`` (then reported
        missing), never a guess."""
        path = osp.join(root, subject)
        if self.SUBJECT_ID is None or osp.isdir(path):
            return path
        by_id = self._subject_dirs.get(osp.normpath(root))
        if by_id is None:  # one listing per root and build
            by_id = {}
            names = os.listdir(root) if osp.isdir(root) else []
            for name in sorted(names):
                if not name.startswith('.') and osp.isdir(
                        osp.join(root, name)):
                    by_id.setdefault(self.normalize_subject(name),
                                     []).append(name)
            self._subject_dirs[osp.normpath(root)] = by_id
        found = by_id.get(subject, [])
        return osp.join(root, found[0]) if len(found) == 1 else path

    def row_record(self, row, clip_id: Optional[str] = None):
        """(bare subject, record) of one annotation row.

        Reads the row's subject, filename (unless ``clip_id`` is given),
        emotion, onset, apex (unknown allowed) and offset cells; raises
        ValueError naming the file and row for a malformed cell.
        """
        sub = self.normalize_subject(cell_str(row, 'subject'))
        record = dict(
            subject=f'{self.CORPUS}/{sub}',
            clip_id=cell_str(row, 'filename') if clip_id is None else clip_id,
            emotion=cell_str(row, 'emotion'),
            onset=cell_int(row, 'onset'),
            apex=cell_int(row, 'apex', allow_unknown=True),
            offset=cell_int(row, 'offset'),
            where=row.where)
        return sub, record

    def row_records(self, rows):
        """``(row, bare subject, record)`` of every well-formed row; a
        malformed row is reported by :meth:`bad` (an error, or listed and
        skipped with ``on_bad_sample='skip'``)."""
        for row in rows:
            try:
                sub, record = self.row_record(row)
            except ValueError as exc:
                self.bad(str(exc))
                continue
            yield row, sub, record

    # ------------------------------------------------------------------
    @property
    def vocabulary(self):
        if self.VOCABULARY is not None:
            return tuple(self.VOCABULARY)
        return VOCABULARIES.get(self.CORPUS)

    def prefixed(self, subject) -> str:
        """Corpus-prefixed subject id (``'casme2/sub01'``)."""
        s = str(subject).strip()
        if '/' in s:
            return s
        return f'{self.CORPUS}/{self.normalize_subject(s)}'

    def bad(self, message: str, exc_type=BadSampleError) -> None:
        """Raise, or record a skipped sample when ``on_bad_sample='skip'``."""
        if self.on_bad_sample == 'error':
            raise exc_type(message)
        self.skipped.append(dict(reason=message))

    def resolve_classes(self, records: List[dict]):
        """(classes, emotion -> class map) of ``class_setup``."""
        vocab = self.vocabulary
        if vocab is None:  # corpus without fixed vocabulary: all annotated
            vocab = tuple(sorted({canonical_emotion(r['emotion'])
                                  for r in records}))
        return resolve_class_setup(self.class_setup, self.CORPUS, vocab)

    def class_names(self) -> tuple:
        """Class names of ``class_setup`` (what ``metainfo['classes']`` will
        be); the annotation is parsed only for corpora without a fixed
        vocabulary, no frame is looked at."""
        records = self.parse_records() if self.vocabulary is None else []
        return tuple(self.resolve_classes(records)[0])

    def assign_class(self, record: dict, classes, mapping):
        """Class name of a record, or (None, reason) when excluded.

        Raises BadSampleError for an emotion outside the vocabulary.
        """
        emo = canonical_emotion(record['emotion'])
        if emo not in mapping:
            raise BadSampleError(
                f"{record['where']}: clip {record['clip_id']} "
                f"({record['subject']}): unknown emotion "
                f"{record['emotion']!r}; expected one of "
                f'{sorted(k for k in mapping)}')
        cls = mapping[emo]
        if cls is None:
            setup = (self.class_setup if isinstance(self.class_setup, str)
                     else 'dict')
            return None, (f"emotion '{emo}' maps to no class of class_setup "
                          f"'{setup}'")
        return cls, None

    # ------------------------------------------------------------------
    def _validate(self, r: dict) -> bool:
        where = f"{r['where']}: clip {r['clip_id']} ({r['subject']})"
        if r['onset'] > r['offset']:
            self.bad(f"{where}: onset {r['onset']} > offset {r['offset']}; "
                     'expected onset <= offset')
            return False
        if r['apex'] != -1 and not r['onset'] <= r['apex'] <= r['offset']:
            self.bad(f"{where}: apex {r['apex']} outside onset..offset "
                     f"{r['onset']}..{r['offset']}")
            return False
        return True

    def collect_records(self, check_frames: Optional[bool] = None
                        ) -> List[dict]:
        """Parse, validate, map classes, filter subjects, check frames.

        Sets ``metainfo['classes']``, :attr:`excluded` and :attr:`skipped`.
        """
        if check_frames is None:
            check_frames = self.check_frames
        self.skipped, self.excluded, self.duplicates = [], [], []
        self._subject_dirs = {}
        records = self.sample_keys(self.drop_duplicates(
            self.parse_records()))
        n_parsed = len(records) + len(self.skipped)
        classes, mapping = self.resolve_classes(records)
        self._metainfo['classes'] = tuple(classes)
        self._metainfo['class_setup'] = copy.deepcopy(self.class_setup)
        self._metainfo['corpus'] = self.CORPUS
        all_subjects = {r['subject'] for r in records}
        kept = []
        for r in records:
            if not self._validate(r):
                continue
            try:
                cls, reason = self.assign_class(r, classes, mapping)
            except BadSampleError as exc:
                self.bad(str(exc))
                continue
            if cls is not None and self.require_apex and r['apex'] < 0:
                cls, reason = None, 'no apex label (require_apex=True)'
            if cls is None:
                self.excluded.append(dict(
                    subject=r['subject'], clip_id=r['clip_id'],
                    emotion=r['emotion'], reason=reason))
                continue
            r = dict(r, label=classes.index(cls))
            kept.append(r)
        kept = self._filter_subjects(kept, all_subjects)
        if check_frames:
            kept = [r for r in kept if self._resolve_frames(r)]
        self._report(n_parsed)
        return kept

    def drop_duplicates(self, records: List[dict]) -> List[dict]:
        """Records annotated twice: identical rows are dropped (listed in
        :attr:`duplicates` and the log), conflicting ones are an error.

        A sample is identified by subject, clip and onset..offset (a clip
        may hold several movements); its emotion and apex must agree.

        Raises:
            CorpusError: naming both rows of a sample annotated twice with
                another emotion or apex.
        """
        first: Dict[tuple, dict] = {}
        kept = []
        for r in records:
            key = (r['subject'], str(r['clip_id']), r['onset'], r['offset'])
            seen = first.setdefault(key, r)
            if seen is r:
                kept.append(r)
                continue
            same = (canonical_emotion(seen['emotion']) ==
                    canonical_emotion(r['emotion'])
                    and seen['apex'] == r['apex'])
            if not same:
                raise CorpusError(
                    f"clip {r['clip_id']} ({r['subject']}, frames "
                    f"{r['onset']}..{r['offset']}) is annotated twice with "
                    f"different labels: {seen['where']}: emotion "
                    f"{seen['emotion']!r}, apex {seen['apex']}; {r['where']}: "
                    f"emotion {r['emotion']!r}, apex {r['apex']}. Expected "
                    'one row per sample: remove the wrong row.')
            self.duplicates.append(dict(where=r['where'],
                                        same_as=seen['where'],
                                        clip_id=r['clip_id'],
                                        subject=r['subject']))
        if self.duplicates:
            lines = '\n  '.join(f"{d['where']} (same as {d['same_as']})"
                                 for d in self.duplicates)
            print_log(f'{type(self).__name__}: {len(self.duplicates)} '
                      f'duplicate annotation row(s) dropped:\n  {lines}',
                      logger='current', level=30)
        return kept

    def sample_keys(self, records: List[dict]) -> List[dict]:
        """Give every sample of a clip that holds several (CAS(ME)^3 part A
        codes several movements of one recording) its own cache key,
        ``<subject>/<clip_id>@<onset>-<offset>``; a clip of one sample keeps
        ``<subject>/<clip_id>``. The frame cache and the device corpus name
        a sample by this key, so one sample never reads another's frames.
        Keys come from every parsed record, before class setup and subject
        filters, so every dataset of a corpus agrees on them."""
        groups: Dict[str, List[dict]] = {}
        for r in records:
            groups.setdefault(self.cache_key(r), []).append(r)
        for key, group in groups.items():
            if len(group) > 1:
                for r in group:
                    r['cache_key'] = f"{key}@{r['onset']}-{r['offset']}"
        return records

    def list_subjects(self) -> List[str]:
        """Sorted subjects with at least one sample (no frame is read)."""
        return sorted(self.count_clips())

    def count_clips(self) -> Dict[str, int]:
        """``{subject: samples}`` of the class setup and subject filters
        (no frame is read)."""
        return dict(Counter(
            r['subject'] for r in self.collect_records(check_frames=False)))

    def _filter_subjects(self, records, all_subjects):
        def norm(ids, what):
            out = set()
            for s in ids:
                p = self.prefixed(s)
                if p not in all_subjects:
                    raise CorpusError(
                        f'{type(self).__name__}: {what} names subject {s!r} '
                        f'({p}) which is not in the annotation; known '
                        f'subjects: {sorted(all_subjects)}')
                out.add(p)
            return out
        if self.subjects is not None:
            keep = norm(self.subjects, 'subjects')
            records = [r for r in records if r['subject'] in keep]
        if self.exclude_subjects:
            drop = norm(self.exclude_subjects, 'exclude_subjects')
            records = [r for r in records if r['subject'] not in drop]
        return records

    def _video_prefix_hint(self) -> str:
        """Why videos are looked for where there are none: a
        ``data_prefix['video']`` folder that does not exist, typically
        inherited from an MMAction2 ``_base_`` config (mmengine merges its
        dataset keys into yours)."""
        video = self.data_prefix.get('video')
        if not video or osp.isdir(video):
            return ''
        return (f"; data_prefix['video'] = {video!r} is not a folder. To "
                'read the frame folders leave data_prefix out; a dataset '
                "inherited from a _base_ config keeps that config's keys "
                "(e.g. MMAction2's data_prefix=dict(video=...)) unless "
                'written dataset=dict(_delete_=True, ...)')

    def _resolve_frames(self, r: dict) -> bool:
        where = f"{r['where']}: clip {r['clip_id']} ({r['subject']})"
        numbers = range(r['onset'], r['offset'] + 1)
        if 'filename' in r:
            path = r['filename']
            if not osp.isfile(path):
                self.bad(f'{where}: video file not found: {path}'
                         f'{self._video_prefix_hint()}', MissingFileError)
                return False
            first = r.get('video_start', 0)
            if r['onset'] < first:
                self.bad(f"{where}: onset {r['onset']} is before the first "
                         f'video frame (frame number {first}) of {path}')
                return False
            try:
                n = video_frame_count(path)
            except VideoReadError as exc:
                self.bad(f'{where}: unreadable video: {exc}')
                return False
            folder = r.get('video_folder')
            if folder and n != folder[2] - folder[1] + 1:
                self.bad(f'{where}: {path} has {n} frames, its image folder '
                         f'{folder[0]} numbers {folder[1]}..{folder[2]} '
                         f'({folder[2] - folder[1] + 1} frames): video frame '
                         f'i is taken as frame number {folder[1]} + i, which '
                         'holds only for a video of exactly those frames; '
                         'give the frame number of video frame 0 '
                         '(video_first_frame=<int>)')
                return False
            if r['offset'] - first >= n:
                self.bad(f'{where}: too few frames in {path}: it has {n} '
                         f"frames (numbers {first}..{first + n - 1}), "
                         f"onset..offset {r['onset']}..{r['offset']} needs "
                         f"up to video frame {r['offset'] - first}")
                return False
            if self.check_images:
                # a truncated file can list frames it cannot decode: its
                # last frame of the sample shows it (one seek, one decode)
                try:
                    read_video_frames(path, [r['offset'] - first])
                except VideoReadError as exc:
                    self.bad(f"{where}: onset..offset {r['onset']}.."
                             f"{r['offset']}: {exc}")
                    return False
            return True
        frames = r.get('frame_map')
        if frames is None:
            folder = r['frame_dir']
            if not osp.isdir(folder):
                # name the first folder of the path that is missing
                missing_dir = folder.rstrip('/')
                while True:
                    parent = osp.dirname(missing_dir)
                    if osp.isdir(parent) or parent == missing_dir:
                        break
                    missing_dir = parent
                what = ('clip folder' if missing_dir == folder.rstrip('/')
                        else 'subject folder' if self.normalize_subject(
                            osp.basename(missing_dir)) ==
                        r['subject'].split('/')[-1] else 'folder')
                parent, name = osp.split(missing_dir)
                twins = (self._subject_dirs.get(osp.normpath(parent), {}).get(
                    self.normalize_subject(name), [])
                    if what == 'subject folder' else [])
                hint = (f' ({", ".join(twins)} there all name subject '
                        f'{name}: expected one folder per subject)'
                        if len(twins) > 1 else _case_hint(missing_dir))
                self.bad(f'{where}: {what} not found: {missing_dir}{hint}',
                         MissingFileError)
                return False
            try:
                frames = scan_frames(folder, r.get('frame_pattern'))
            except ValueError as exc:
                self.bad(f'{where}: {exc}')
                return False
            r['frame_map'] = frames
        missing = [n for n in numbers if n not in frames]
        if missing:
            folder = r.get('frame_dir') or (
                osp.dirname(next(iter(frames.values()))) if frames else '?')
            name = r.get('frame_name')
            expected = (osp.join(folder, name.format(missing[0])) if name
                        else f'an image numbered {missing[0]} in {folder}')
            have = (f'has frames {min(frames)}..{max(frames)} '
                    f'({len(frames)} images)' if frames
                    else f'has no frame images{_listing(folder)}')
            self.bad(f'{where}: too few frames for onset..offset '
                     f"{r['onset']}..{r['offset']}: {len(missing)} missing, "
                     f'first missing frame {missing[0]}: expected {expected}; '
                     f'the folder {have}', MissingFileError)
            return False
        if self.check_images:
            problems = check_clip_frames([frames[n] for n in numbers])
            if problems:
                more = (f'; ... ({len(problems) - 5} more)'
                        if len(problems) > 5 else '')
                self.bad(f'{where}: {len(problems)} unusable frame(s): ' +
                         '; '.join(map(str, problems[:5])) + more +
                         '; expected complete JPEG/PNG/BMP images of one '
                         'size')
                return False
        return True

    def _report(self, n_parsed: int) -> None:
        name = type(self).__name__
        if self.excluded:
            reasons = Counter(e['reason'] for e in self.excluded)
            detail = '; '.join(f'{k}: {v}' for k, v in sorted(reasons.items()))
            print_log(f'{name}: {len(self.excluded)} of {n_parsed} annotated '
                      f'samples excluded ({detail})', logger='current',
                      level=30)
        if self.skipped:
            lines = '\n  '.join(s['reason'] for s in self.skipped)
            print_log(f"{name}: {len(self.skipped)} bad samples skipped "
                      f"(on_bad_sample='skip'):\n  {lines}", logger='current',
                      level=30)

    def exclusion_report(self) -> Dict[str, int]:
        """Reason -> count of the excluded and skipped samples."""
        out = OrderedDict(Counter(e['reason'] for e in self.excluded))
        if self.skipped:
            out['bad sample skipped'] = len(self.skipped)
        return dict(out)

    # ------------------------------------------------------------------
    @staticmethod
    def cache_key(record: dict) -> str:
        """Cache entry of a record: ``<subject>/<clip_id>`` (the subject is
        corpus-prefixed), unless the corpus sets ``record['cache_key']``."""
        return record.get('cache_key') or (
            f"{record['subject']}/{record['clip_id']}")

    def _check_cache_dir(self) -> None:
        from mmakm.preprocessing.cache import preprocess_command
        if not osp.isdir(self.cache_dir):
            raise MissingFileError(
                f'{type(self).__name__}: preprocessed frame cache not found: '
                f'{self.cache_dir}; make it with `'
                f"{preprocess_command(self.cache_dir, f'configs/akm_{self.CORPUS}.py')}`"
                ' (or the config you train with), or set cache_dir=None to '
                'read the frames as shipped')

    def _cached_frames(self, r: dict, numbers: np.ndarray) -> Optional[dict]:
        """``cache_file`` / ``cache_rows`` of a record (None: bad sample)."""
        from mmakm.preprocessing.cache import (CacheMissError, clip_source,
                                               lookup, preprocess_command)
        try:
            path, rows = lookup(self.cache_dir, self.cache_key(r), numbers,
                                clip_source(r), self._cache_recipe)
        except CacheMissError as exc:
            self.bad(f"{r['where']}: clip {r['clip_id']} ({r['subject']}): "
                     f'{exc}; run `{preprocess_command(self.cache_dir)}`',
                     type(exc))
            return None
        return dict(cache_file=path, cache_rows=rows)

    def load_data_list(self) -> List[dict]:
        if self.cache_dir:
            from mmakm.preprocessing.cache import cache_recipe, read_recipe
            self._check_cache_dir()
            # every clip must have been made with the cache's recipe
            self._cache_recipe = cache_recipe(read_recipe(self.cache_dir))
        data_list = []
        # with a cache the shipped frames are not needed (nor checked)
        records = self.collect_records(
            check_frames=False if self.cache_dir else None)
        n_bad = len(self.skipped)
        for r in records:
            numbers = np.arange(r['onset'], r['offset'] + 1, dtype=np.int64)
            info = dict(
                frame_numbers=numbers,
                total_frames=int(len(numbers)),
                onset=int(r['onset']),
                apex=int(r['apex']),
                offset=int(r['offset']),
                label=int(r['label']),
                emotion=str(r['emotion']),
                subject=r['subject'],
                corpus=r.get('corpus', self.CORPUS),
                clip_id=str(r['clip_id']),
                fps=float(r.get('fps', self.fps) or 0.0),
                cache_key=self.cache_key(r),
            )
            if self.cache_dir:
                cached = self._cached_frames(r, numbers)
                if cached is None:
                    continue
                info.update(cached)
            elif 'filename' in r:
                info['filename'] = r['filename']
                info['video_frame_inds'] = numbers - int(
                    r.get('video_start', 0))
            else:
                info['frame_paths'] = self._frame_paths(r, numbers)
            data_list.append(info)
        if len(self.skipped) > n_bad:
            lines = '\n  '.join(s['reason'] for s in self.skipped[n_bad:])
            print_log(f'{type(self).__name__}: {len(self.skipped) - n_bad} '
                      "clips not in the cache skipped (on_bad_sample='skip')"
                      f':\n  {lines}', logger='current', level=30)
        if not data_list:
            raise CorpusError(self._no_samples_message())
        check_sampleframes_span(self.pipeline.transforms, data_list,
                                type(self).__name__)
        return data_list

    def _frame_paths(self, r: dict, numbers: np.ndarray) -> List[str]:
        """Image file of every frame of a record. Without the frame check
        (``check_frames=False``) the clip folder is listed where it exists
        (the names as shipped: any extension, zero-padded or not); frames
        it lacks get the corpus' naming scheme (``frame_name``), so the
        missing file is named when the clip is decoded."""
        frames = r.get('frame_map')
        if frames is None:
            folder = r['frame_dir']
            frames = (scan_frames(folder, r.get('frame_pattern'))
                      if osp.isdir(folder) else {})
        paths = []
        for n in numbers.tolist():
            if n in frames:
                paths.append(frames[n])
            elif r.get('frame_name'):
                paths.append(osp.join(r['frame_dir'],
                                      r['frame_name'].format(n)))
            else:
                raise MissingFileError(
                    f"{r['where']}: clip {r['clip_id']} ({r['subject']}): "
                    f"no image numbered {n} in {r['frame_dir']}")
        return paths

    def _no_samples_message(self) -> str:
        source = self.ann_file or self.data_prefix.get('img') or \
            self.data_root
        parts = [f'{len(self.excluded)} excluded by the class setup'
                 if self.excluded else '',
                 f'{len(self.skipped)} bad samples skipped'
                 if self.skipped else '',
                 f'subjects={self.subjects}' if self.subjects is not None
                 else '',
                 f'exclude_subjects={self.exclude_subjects}'
                 if self.exclude_subjects else '']
        detail = '; '.join(p for p in parts if p)
        return (f'{type(self).__name__}: no samples in {source}'
                + (f' ({detail})' if detail else ' (no annotated sample '
                   'found)') + '; expected at least one sample of the '
                f'class setup {self.class_setup!r}')

    def get_labels(self) -> np.ndarray:
        """Labels of all samples (int64), without running the pipeline."""
        return np.array([self.get_data_info(i)['label']
                         for i in range(len(self))], dtype=np.int64)


def _case_hint(path: str) -> str:
    """Names beside a missing ``path`` that differ from it only in case."""
    parent, name = osp.split(path.rstrip('/'))
    try:
        near = [n for n in os.listdir(parent)
                if n.lower() == name.lower() and n != name]
    except OSError:
        return ''
    return (f' ({", ".join(near)} exists there: the name must match the '
            'annotation, case included)' if near else '')


def _listing(folder: str, n: int = 3) -> str:
    """`` (it holds a, b, c, ...)`` for a message, or ``''``."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return ''
    if not names:
        return ' (it is empty)'
    more = f', ... ({len(names)} files)' if len(names) > n else ''
    return f' (it holds {", ".join(names[:n])}{more})'
