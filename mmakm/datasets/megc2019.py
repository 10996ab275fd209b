"""MEGC2019 composite: CASME II + SAMM + SMIC-HS, 3 classes, 68 subjects.

Membership and class come from the official list, a CSV with columns
``dataset, subject, filename, class`` (header names case-insensitive;
``emotion``/``label`` accepted for ``class``). ``dataset`` values naming
CASME II, SAMM or SMIC (any case/spelling containing ``casme``, ``samm``,
``smic``); ``class`` is ``negative``/``positive``/``surprise`` or the
integers 0/1/2 in that order. Clips of the three corpora that the list does
not name are excluded and reported (e.g. CASME II others/fear/sadness and
the two clips sub04 EP12_01f, sub05 EP09_05f).

Subjects keep their corpus prefix (``casme2/sub01``, ``samm/006``,
``smic/s3``); ``subjects`` / ``exclude_subjects`` must be given prefixed.
Each sample's ``corpus`` and ``fps`` are those of its source corpus;
``metainfo['fps']`` is a dict corpus -> fps.
"""
import re
from typing import Optional

from mmaction.registry import DATASETS

from .annotation_io import cell_str, read_table
from .base import MEBaseDataset
from .casme2 import CASME2Dataset
from .class_setups import MEGC3_CLASSES, canonical_emotion
from .errors import BadSampleError, CorpusError
from .samm import SAMMDataset
from .smic import SMICDataset

MEGC_FIELDS = dict(dataset=['dataset', 'database', 'corpus'],
                   subject=['subject'], filename=['filename', 'clip'],
                   cls=['class', 'emotion', 'label', 'objective class'])
MEGC_REQUIRED = ('dataset', 'subject', 'filename', 'cls')


def _corpus_of(name: str) -> Optional[str]:
    if '(me)' in str(name).lower().replace(' ', ''):
        return None  # CAS(ME)^2 / CAS(ME)^3: other corpora, not CASME II
    n = re.sub(r'[^a-z0-9]', '', str(name).lower())
    for key in ('casme2', 'samm', 'smic'):
        if key in n:
            return key
    if 'casmeii' in n or n == 'casme':
        return 'casme2'
    return None


@DATASETS.register_module()
class MEGC2019Dataset(MEBaseDataset):
    """MEGC2019 composite dataset (442 clips, 3 classes).

    Args:
        ann_file (str): the official membership CSV.
        casme2 / samm / smic (dict): constructor arguments of
            :class:`CASME2Dataset`, :class:`SAMMDataset`,
            :class:`SMICDataset` (``data_root``, ``ann_file``,
            ``data_prefix``, ...); class_setup, subject filters and the
            pipeline are taken from this dataset.
        class_setup (str): only ``'megc3'``.
        **kwargs: see :class:`MEBaseDataset`.
    """
    CORPUS = 'megc2019'

    def __init__(self, ann_file: str, casme2: Optional[dict] = None,
                 samm: Optional[dict] = None, smic: Optional[dict] = None,
                 class_setup='megc3', **kwargs):
        if class_setup != 'megc3':
            raise ValueError("MEGC2019Dataset supports class_setup='megc3' "
                             f'only, got {class_setup!r}')
        self.source_cfgs = dict(casme2=dict(casme2 or {}),
                                samm=dict(samm or {}),
                                smic=dict(smic or {}))
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        metainfo.setdefault('fps', dict(casme2=CASME2Dataset.FPS,
                                        samm=SAMMDataset.FPS,
                                        smic=SMICDataset.FPS))
        super().__init__(ann_file=ann_file, class_setup=class_setup,
                         metainfo=metainfo, **kwargs)

    def prefixed(self, subject) -> str:
        s = str(subject).strip()
        if '/' not in s:
            raise ValueError(f'MEGC2019Dataset: subject {subject!r} must be '
                             "corpus-prefixed, e.g. 'casme2/sub01', "
                             "'samm/006', 'smic/s3'")
        return s

    def _sources(self):
        classes = dict(casme2=CASME2Dataset, samm=SAMMDataset,
                       smic=SMICDataset)
        out = {}
        for key, cls in classes.items():
            cfg = dict(self.source_cfgs[key])
            cfg.pop('type', None)
            for k in ('class_setup', 'subjects', 'exclude_subjects',
                      'pipeline', 'test_mode'):
                cfg.pop(k, None)
            out[key] = cls(class_setup='raw', lazy_init=True,
                           on_bad_sample=self.on_bad_sample, **cfg)
        return out

    def resolve_classes(self, records):
        return MEGC3_CLASSES, None

    def class_names(self) -> tuple:
        return tuple(MEGC3_CLASSES)  # fixed: no annotation needs reading

    def assign_class(self, record, classes, mapping):
        if record.get('megc_class') is None:
            return None, 'not in the MEGC2019 list'
        return record['megc_class'], None

    def parse_records(self):
        sources = self._sources()
        records, index = [], {}
        for key, ds in sources.items():
            recs = ds.parse_records()
            self.skipped.extend(ds.skipped)
            for r in recs:
                r.update(corpus=key, fps=ds.fps, megc_class=None)
                index.setdefault((r['subject'], r['clip_id'].lower()),
                                 []).append(r)
                records.append(r)
        listed = {}  # (subject, clip) -> (class, row) of its first row
        for row in read_table(self.ann_file, MEGC_FIELDS, MEGC_REQUIRED):
            try:
                key = _corpus_of(cell_str(row, 'dataset'))
                if key is None:
                    raise BadSampleError(
                        f'{row.where}: dataset {row["dataset"]!r} is not '
                        'CASME II, SAMM or SMIC')
                subject = sources[key].prefixed(cell_str(row, 'subject'))
                clip = cell_str(row, 'filename')
                cls = self._class_name(row)
                recs = index.get((subject, clip.lower()))
                if recs is None:
                    raise BadSampleError(
                        f'{row.where}: clip {clip} of {subject} is in the '
                        f'MEGC2019 list but not in the {key} annotation '
                        f'({sources[key].ann_file or sources[key].data_prefix})')
                # the list names clips, not movements; rows of one sample
                # (same frames) are duplicates, left to drop_duplicates
                if len({(r['onset'], r['offset']) for r in recs}) > 1:
                    raise BadSampleError(
                        f'{row.where}: clip {clip} of {subject} holds '
                        f'{len(recs)} samples in the {key} annotation ('
                        + '; '.join(f"{r['where']}: frames {r['onset']}.."
                                    f"{r['offset']}" for r in recs) +
                        '); the MEGC2019 list names one clip per row, so '
                        'its class cannot be given to one of them; expected '
                        'one sample per listed clip')
            except ValueError as exc:
                self.bad(str(exc))
                continue
            first = listed.setdefault((subject, clip.lower()), (cls, row))
            if first[1] is not row:
                self._listed_twice(first, cls, row, clip, subject)
                continue
            for rec in recs:
                rec['megc_class'] = cls
                rec['where'] = f"{rec['where']} / {row.where}"
        return records

    def _listed_twice(self, first, cls, row, clip, subject) -> None:
        """A clip listed again: with the same class it is a duplicate row
        (listed in :attr:`duplicates` and the log), with another class an
        error naming both rows."""
        if first[0] != cls:
            raise CorpusError(
                f'clip {clip} ({subject}) is listed twice with different '
                f'classes: {first[1].where}: {first[0]!r}; {row.where}: '
                f'{cls!r}. Expected one row per clip: remove the wrong row.')
        self.duplicates.append(dict(where=row.where, same_as=first[1].where,
                                    clip_id=clip, subject=subject))

    @staticmethod
    def _class_name(row) -> str:
        value = row.get('cls')
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        s = str(value).strip()
        if re.fullmatch(r'\d+', s) and int(s) < len(MEGC3_CLASSES):
            return MEGC3_CLASSES[int(s)]
        name = canonical_emotion(s)
        if name not in MEGC3_CLASSES:
            raise BadSampleError(f'{row.where}: class {value!r}; expected '
                                 f'one of {list(MEGC3_CLASSES)} or 0/1/2')
        return name
