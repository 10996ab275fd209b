"""LOSO fold planning: which subjects, and each fold's config.

A fold's config is derived from the experiment config in Python and written
to ``<work_dir>/fold_configs/fold_<subject>.py``; the training and test tools
then run on that file, so a fold can be rerun or inspected on its own.

Leak-free by construction: the held-out subject only ever appears in the
test dataloader. Validation (which could be used to pick a checkpoint) is
switched off in every fold, the schedule is the config's fixed one, and the
fold is tested with its LAST checkpoint.
"""
import copy
import os.path as osp
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config


#: dataset wrappers whose wrapped dataset(s) live under these keys
_WRAPPED_KEYS = ('dataset', 'datasets')


class LosoSetupError(RuntimeError):
    """A LOSO run that would mix two experiments in one work dir."""


@dataclass
class Fold:
    subject: str
    work_dir: str

    @property
    def name(self) -> str:
        return osp.basename(self.work_dir)

    @property
    def config_path(self) -> str:
        # outside the fold's work dir: mmengine's Runner dumps its config to
        # <work_dir>/<config file name> and would overwrite it
        return osp.join(osp.dirname(self.work_dir), 'fold_configs',
                        self.name + '.py')

    @property
    def predictions(self) -> str:
        return osp.join(self.work_dir, 'predictions.pkl')

    @property
    def train_done(self) -> str:
        return osp.join(self.work_dir, 'train_done.json')


def safe_name(subject: str) -> str:
    """File-system safe form of a subject id (``casme2/sub01`` -> ``casme2_sub01``)."""
    name = re.sub(r'[^A-Za-z0-9_.-]+', '_', str(subject)).strip('_.')
    return name or 'subject'


def fold_dir(work_dir: str, subject: str) -> str:
    return osp.join(osp.abspath(work_dir), 'fold_' + safe_name(subject))


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Read an experiment config (mmakm imported first: see mmakm.compat);
    a missing file or a ``cfg_options`` key the config cannot take is a
    :class:`~mmakm.engine.UserInputError`."""
    import mmakm  # noqa: F401  (stack fixes before any config is parsed)
    from mmakm.engine.user_input import load_config as load_checked
    return load_checked(path, cfg_options)


def leaf_datasets(ds_cfg) -> list:
    """The real dataset cfgs inside (possibly nested) dataset wrappers.

    Handles RepeatDataset / ClassBalancedDataset (``dataset=``) and
    ConcatDataset (``datasets=[...]``). The returned dicts are the config's
    own (mutable) nodes.
    """
    if ds_cfg is None:
        return []
    if isinstance(ds_cfg, (list, tuple)):
        return [leaf for d in ds_cfg for leaf in leaf_datasets(d)]
    for key in _WRAPPED_KEYS:
        inner = ds_cfg.get(key) if hasattr(ds_cfg, 'get') else None
        if inner is not None and not isinstance(inner, str):
            return leaf_datasets(inner)
    return [ds_cfg]


DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def dataloader_datasets(cfg: Config) -> List[Tuple[str, list]]:
    """``[(loader name, leaf dataset cfgs)]`` of the config's train, val and
    test dataloaders (those that are set)."""
    out = []
    for loader in DATALOADERS:
        loader_cfg = cfg.get(loader, None)
        if loader_cfg and loader_cfg.get('dataset'):
            out.append((loader, leaf_datasets(loader_cfg['dataset'])))
    return out


def _corpus_of(leaf) -> Tuple[str, dict]:
    """``(key, cfg)``: a leaf dataset cfg without its subject filters and
    pipeline (the whole corpus), and a key equal for equal corpora."""
    leaf = copy.deepcopy(dict(leaf))
    for key in ('subjects', 'exclude_subjects', 'pipeline', 'test_mode'):
        leaf.pop(key, None)
    return repr(sorted(leaf.items(), key=lambda kv: kv[0])), leaf


def corpus_datasets(cfg: Config) -> List[dict]:
    """The distinct leaf dataset cfgs of the config's dataloaders, subject
    filters and pipelines removed: each corpus once, all its subjects."""
    seen, out = set(), []
    for _, leaves in dataloader_datasets(cfg):
        for leaf in leaves:
            key, leaf = _corpus_of(leaf)
            if key not in seen:
                seen.add(key)
                out.append(leaf)
    return out


def check_corpora(cfg: Config) -> None:
    """Build every corpus of the config once, all subjects, as its folds
    will (frames and images checked as the config asks), so a bad sample
    stops the experiment with its message before any fold starts instead
    of failing every fold.

    A ``SampleFrames`` step that would loop a clip is refused here too,
    over the whole corpus (every clip is in some fold; datasets with their
    own subject filters are left to the folds).

    Raises:
        mmakm.datasets.CorpusError: naming the file (and row) and what was
            expected.
        mmakm.datasets.PipelineError: naming the SampleFrames step and the
            shortest clip it would loop.
    """
    from mmaction.registry import DATASETS, TRANSFORMS
    from mmengine.registry import init_default_scope

    from mmakm.datasets.transforms.pipeline_check import \
        check_sampleframes_span
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    built = {}
    for leaf in corpus_datasets(cfg):
        built[_corpus_of(leaf)[0]] = DATASETS.build(dict(leaf, pipeline=[]))
    # a SampleFrames step that would loop some clip of the corpus: one
    # message here, not a failure in each fold holding such a clip (only
    # those steps are built, in place, so the message gives their index)
    for _, leaves in dataloader_datasets(cfg):
        for leaf in leaves:
            if leaf.get('subjects') is not None or leaf.get(
                    'exclude_subjects'):
                continue
            dataset = built.get(_corpus_of(leaf)[0])
            steps = [TRANSFORMS.build(step) if isinstance(step, dict) and
                     step.get('type') == 'SampleFrames' else step
                     for step in leaf.get('pipeline') or []]
            if dataset is None or all(isinstance(t, dict) for t in steps):
                continue
            clips = [dataset.get_data_info(i) for i in range(len(dataset))]
            check_sampleframes_span(steps, clips, type(dataset).__name__)


def describe_protocol(cfg: Config) -> Tuple[List[str], Tuple[str, ...]]:
    """``(subjects, classes)`` of the LOSO protocol of ``cfg``.

    Subjects: those of its test data (every leaf dataset, corpus-prefixed,
    sorted); classes: the class names of its class setup. Only the
    annotation is parsed, no frame is read.
    """
    clips, classes = protocol_clips(cfg)
    return sorted(clips), classes


def protocol_clips(cfg: Config) -> Tuple[Dict[str, int], Tuple[str, ...]]:
    """``({subject: clips}, classes)`` of the LOSO protocol of ``cfg``: how
    many clips the fold holding out each subject of its test data must
    predict (annotation only, as :func:`describe_protocol`).

    Raises:
        ValueError: the test data has no subject.
    """
    from mmaction.registry import DATASETS
    from mmengine.registry import init_default_scope

    from mmakm.datasets.loso import count_clips
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    clips, classes = {}, None
    for leaf in leaf_datasets(cfg.test_dataloader.dataset):
        leaf = copy.deepcopy(dict(leaf))
        leaf.update(lazy_init=True, pipeline=[], check_frames=False)
        dataset = DATASETS.build(leaf)
        for subject, n in count_clips(dataset).items():
            clips[subject] = clips.get(subject, 0) + n
        classes = classes or tuple(dataset.metainfo.get('classes') or ())
    if not clips:
        raise ValueError('the test data of the config has no subject')
    return dict(sorted(clips.items())), classes


def select_subjects(all_subjects: Sequence[str],
                    chosen: Optional[Sequence[str]]) -> List[str]:
    """Keep ``chosen`` (ids, or their safe names), in protocol order."""
    if not chosen:
        return list(all_subjects)
    by_key = {}
    for s in all_subjects:
        by_key[s] = s
        by_key.setdefault(safe_name(s), s)
        by_key.setdefault(s.rsplit('/', 1)[-1], s)
    unknown = [c for c in chosen if c not in by_key]
    if unknown:
        raise ValueError(f'unknown subject(s) {unknown}; the protocol has '
                         f'{list(all_subjects)}')
    wanted = {by_key[c] for c in chosen}
    return [s for s in all_subjects if s in wanted]


def plan_folds(work_dir: str, subjects: Sequence[str]) -> List[Fold]:
    folds = [Fold(s, fold_dir(work_dir, s)) for s in subjects]
    names = [f.name for f in folds]
    if len(set(names)) != len(names):
        raise ValueError(f'subject ids collide once made file-safe: {names}')
    return folds


def fill_fold(node, fold_name: str):
    """``node`` with ``{fold}`` replaced by ``fold_name`` in every string."""
    if isinstance(node, str):
        return node.replace('{fold}', fold_name)
    if isinstance(node, (list, tuple)):
        return type(node)(fill_fold(v, fold_name) for v in node)
    if hasattr(node, 'items'):
        return type(node)({k: fill_fold(v, fold_name)
                           for k, v in node.items()})
    return node


def leaf_subjects(cfg: Config) -> Optional[Tuple[List[set], List[set]]]:
    """Subjects of every train and test leaf dataset (annotation only), in
    :func:`leaf_datasets` order, when a dataloader has several leaves (a
    composite built with ``ConcatDataset``, e.g. CASME II + SAMM); None
    when each has one (it holds every subject of its side).

    A fold of ``casme2/sub01`` must exclude it from the CASME II leaf only
    and test on that leaf only: a SAMM dataset asked to exclude or keep a
    CASME II subject refuses the unknown subject.
    """
    from mmakm.datasets.loso import list_subjects
    train = leaf_datasets(cfg.train_dataloader.dataset)
    test = leaf_datasets(cfg.test_dataloader.dataset)
    if len(train) < 2 and len(test) < 2:
        return None
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmaction'))

    def subjects(leaf):
        return set(list_subjects(_corpus_of(leaf)[1]))
    return [subjects(x) for x in train], [subjects(x) for x in test]


def _drop_leaves(node, drop: set):
    """``node`` without the leaf dataset cfgs whose ``id`` is in ``drop``
    (entries of a ``ConcatDataset``'s ``datasets``); None if nothing is
    left."""
    if id(node) in drop:
        return None
    if isinstance(node, (list, tuple)):
        kept = [d for d in (_drop_leaves(x, drop) for x in node)
                if d is not None]
        return kept or None
    for key in _WRAPPED_KEYS:
        inner = node.get(key) if hasattr(node, 'get') else None
        if inner is not None and not isinstance(inner, str):
            inner = _drop_leaves(inner, drop)
            if inner is None:
                return None
            node[key] = inner
            return node
    return node


def derive_fold_cfg(cfg: Config, subject: str,
                    work_dir: Optional[str] = None,
                    subjects_of_leaves: Optional[
                        Tuple[List[set], List[set]]] = None) -> Config:
    """The config of the fold that holds ``subject`` out.

    * train dataset(s): ``exclude_subjects`` += [subject];
    * test dataset(s): ``subjects = [subject]``;
    * with ``subjects_of_leaves`` (:func:`leaf_subjects`, for composites
      of several leaf datasets): only the train leaves that hold
      ``subject`` exclude it, and the test leaves that do not hold it are
      left out of the fold's test data;
    * validation off (no checkpoint can be chosen on the held-out subject);
      no ``save_best``; ``load_from`` of the experiment config is kept
      (pretrained weights), ``resume`` is left to the command line;
    * ``{fold}`` in any string of the datasets' pipelines becomes the
      fold's folder name (``fold_<subject>``), so a pipeline can read the
      same fold's files of another LOSO experiment (e.g. the max-β key
      frames of that fold's AKMNet).
    """
    cfg = copy.deepcopy(cfg)
    train_leaves = leaf_datasets(cfg.train_dataloader.dataset)
    test_leaves = leaf_datasets(cfg.test_dataloader.dataset)
    if not train_leaves or not test_leaves:
        raise ValueError('the config needs train_dataloader.dataset and '
                         'test_dataloader.dataset')
    train_sets, test_sets = subjects_of_leaves or (None, None)
    for i, leaf in enumerate(train_leaves):
        if train_sets is not None and subject not in train_sets[i]:
            continue  # another corpus: nothing to exclude
        excluded = list(leaf.get('exclude_subjects') or [])
        if subject not in excluded:
            excluded.append(subject)
        leaf['exclude_subjects'] = excluded
    if test_sets is not None:
        drop = {id(leaf) for leaf, held in zip(test_leaves, test_sets)
                if subject not in held}
        if len(drop) == len(test_leaves):
            raise ValueError(f'no test dataset of the config holds subject '
                             f'{subject}')
        cfg.test_dataloader.dataset = _drop_leaves(
            cfg.test_dataloader.dataset, drop)
        test_leaves = [x for x in test_leaves if id(x) not in drop]
    for leaf in test_leaves:
        leaf['subjects'] = [subject]
        leaf.pop('exclude_subjects', None)
    fold_name = osp.basename(fold_dir('', subject))
    for leaf in train_leaves + test_leaves:
        if leaf.get('pipeline') is not None:
            leaf['pipeline'] = fill_fold(leaf['pipeline'], fold_name)
    # leak-free: nothing is evaluated during training
    cfg.val_dataloader = None
    cfg.val_cfg = None
    cfg.val_evaluator = None
    ckpt_hook = cfg.get('default_hooks', {}).get('checkpoint')
    if ckpt_hook is not None:
        ckpt_hook.pop('save_best', None)
        ckpt_hook.pop('rule', None)
        ckpt_hook['save_last'] = True
    if work_dir is not None:
        cfg.work_dir = work_dir
    return cfg
