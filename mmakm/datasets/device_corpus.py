"""A corpus packed into one uint8 tensor that lives on the training device.

An epoch over a micro-expression corpus reads ~17 k frames (CASME II); at
144 px that is ~1 GB of uint8, which fits on any GPU. Holding it there once
removes per-step decoding and host->device copies: the dataloader only hands
out clip indices (:class:`DeviceCorpusDataset`) and
:class:`~mmakm.models.MEDeviceCorpusPreprocessor` gathers, crops, flips and
normalises the clips of a batch on the device in a few batched tensor ops.

A *corpus spec* (a plain dict in the config, shared by the dataset wrapper
and the preprocessor) names where the frames come from:

* ``dict(type='casme2_sized', seed=0, size=144, ...)``: the synthetic
  CASME II-sized corpus of :mod:`mmakm.datasets.casme2_sized`, drawn on the
  device;
* ``dict(type='dataset', dataset=<ME dataset cfg>, load_pipeline=[...])``:
  any ME dataset; every clip is decoded once with ``load_pipeline`` (which
  must give equal-sized ``(S, S, 3)`` uint8 frames in ``results['imgs']``;
  default: every frame, ``MESampleFrames`` + ``MEFrameDecode``, which fits
  the frame cache of ``tools/preprocess.py`` -- ``cache_dir=...`` of the
  dataset, ``S``-px clips; shipped frames need a fixed-size ``Resize`` after
  the decode) and packed.

Clips are named by the dataset's cache key, ``'<subject>/<clip_id>'``
(corpus-prefixed subject; ``...@<onset>-<offset>`` for a clip holding
several samples, :meth:`~mmakm.datasets.base.MEBaseDataset.sample_keys`).
"""
import copy
import json
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import Compose

from mmaction.registry import DATASETS
from .casme2_sized import casme2_sized_plan, render_casme2_sized


#: decode every frame onset..offset as stored (e.g. a frame cache)
DEFAULT_LOAD = (dict(type='MESampleFrames'), dict(type='MEFrameDecode'))


class PackedClips:
    """Variable-length clips packed along the frame axis.

    Args:
        frames (torch.Tensor): ``(ΣT, S, S, C)`` uint8, clips back to back.
        lengths (Sequence[int]): ``T_i`` of every clip, in packing order.
        keys (Sequence[str]): clip names (the datasets' cache keys), in
            packing order.
    """

    def __init__(self, frames: Optional[torch.Tensor],
                 lengths: Sequence[int], keys: Sequence[str]) -> None:
        self.frames = frames
        self.lengths = torch.as_tensor(lengths, dtype=torch.long)
        self.starts = torch.cumsum(self.lengths, 0) - self.lengths
        self.keys = list(keys)
        if len(self.keys) != len(self.lengths):
            raise ValueError(f'{len(self.keys)} keys for '
                             f'{len(self.lengths)} clips')
        self.index = {k: i for i, k in enumerate(self.keys)}
        if len(self.index) != len(self.keys):
            raise ValueError('duplicate clip keys in a packed corpus')
        if frames is not None and frames.shape[0] != int(self.lengths.sum()):
            raise ValueError(f'{frames.shape[0]} frames, but the clip lengths '
                             f'sum to {int(self.lengths.sum())}')

    def __len__(self) -> int:
        return len(self.keys)

    def frame_indices(self, clips: torch.Tensor) -> Tuple[torch.Tensor,
                                                          torch.Tensor]:
        """Packed-frame rows of ``clips`` and each row's position in it.

        Args:
            clips (torch.Tensor): ``(B,)`` int64 clip indices (CPU).

        Returns:
            tuple: ``rows`` ``(ΣT_b,)`` int64 into :attr:`frames`, and
            ``owner`` ``(ΣT_b,)`` int64, the batch position of each row.
        """
        lengths = self.lengths[clips]
        owner = torch.repeat_interleave(torch.arange(len(clips)), lengths)
        first = torch.cumsum(lengths, 0) - lengths  # first row per clip
        rows = (torch.arange(int(lengths.sum())) - first[owner]
                + self.starts[clips][owner])
        return rows, owner


# ----------------------------------------------------------------- sources
def _casme2_sized_keys(spec: dict) -> Tuple[List[str], List[int]]:
    plan = casme2_sized_plan(**_plan_args(spec))
    return [p['key'] for p in plan], [p['num_frames'] for p in plan]


def _plan_args(spec: dict) -> dict:
    return {k: v for k, v in spec.items() if k not in ('type', 'size')}


def _casme2_sized_load(spec: dict, device: torch.device) -> PackedClips:
    plan = casme2_sized_plan(**_plan_args(spec))
    frames = render_casme2_sized(plan, size=spec.get('size', 144),
                                 seed=spec.get('seed', 0), device=device)
    return PackedClips(frames, [p['num_frames'] for p in plan],
                       [p['key'] for p in plan])


def _build_dataset(spec: dict, lazy: bool):
    cfg = copy.deepcopy(dict(spec['dataset']))
    cfg['pipeline'] = []
    if lazy:
        cfg.update(lazy_init=True, check_frames=False)
    dataset = DATASETS.build(cfg)
    if not lazy:
        dataset.full_init()
    return dataset


def _dataset_keys(spec: dict) -> Tuple[List[str], List[int]]:
    ds = _build_dataset(spec, lazy=True)
    records = ds.collect_records(check_frames=False)
    return ([ds.cache_key(r) for r in records],
            [r['offset'] - r['onset'] + 1 for r in records])


def _dataset_load(spec: dict, device: torch.device) -> PackedClips:
    dataset = _build_dataset(spec, lazy=False)
    pipeline = Compose(list(spec.get('load_pipeline') or DEFAULT_LOAD))
    clips, keys, lengths = [], [], []
    for i in range(len(dataset)):  # once per corpus, not per epoch
        info = dataset.get_data_info(i)
        results = pipeline(copy.deepcopy(info))
        imgs = np.stack(results['imgs']) if isinstance(
            results['imgs'], list) else np.asarray(results['imgs'])
        name = info['cache_key']
        if (imgs.dtype != np.uint8 or imgs.ndim != 4 or imgs.shape[-1] != 3
                or len(imgs) != info['total_frames']
                or (clips and imgs.shape[1:] != clips[0].shape[1:])):
            raise ValueError(
                f'clip {name}: load_pipeline gave {imgs.dtype} frames of '
                f'shape {imgs.shape}; expected {info["total_frames"]} uint8 '
                'RGB frames (T, S, S, 3) of one size for every clip (end '
                'load_pipeline with a fixed-size Resize)')
        clips.append(torch.from_numpy(imgs))
        keys.append(name)
        lengths.append(len(imgs))
    if not clips:
        raise ValueError('the corpus spec\'s dataset has no clip')
    return PackedClips(torch.cat(clips).to(device), lengths, keys)


_SOURCES = dict(
    casme2_sized=(_casme2_sized_keys, _casme2_sized_load),
    dataset=(_dataset_keys, _dataset_load))

#: packed corpora of this process, by (spec, device): the train and test
#: loaders of a run share one copy
_LOADED: Dict[Tuple[str, str], PackedClips] = {}


def _source(spec: dict):
    kind = spec.get('type') if isinstance(spec, dict) else None
    if kind not in _SOURCES:
        raise ValueError(f'corpus spec {spec!r}: type must be one of '
                         f'{sorted(_SOURCES)}')
    return _SOURCES[kind]


def _spec_id(spec: dict) -> str:
    return json.dumps(spec, sort_keys=True, default=str)


def corpus_index(spec: dict) -> PackedClips:
    """Names and lengths of the clips of ``spec``, without any frame
    (cheap: the annotation only)."""
    keys, lengths = _source(dict(spec))[0](dict(spec))
    return PackedClips(None, lengths, keys)


def load_corpus(spec: dict,
                device: Union[str, torch.device] = 'cpu') -> PackedClips:
    """The packed corpus of ``spec`` on ``device`` (loaded once a process)."""
    spec = dict(spec)
    device = torch.device(device)
    key = (_spec_id(spec), str(device))
    if key not in _LOADED:
        _LOADED[key] = _source(spec)[1](spec, device)
    return _LOADED[key]


def release_corpora() -> None:
    """Forget every loaded corpus (frees its device memory)."""
    _LOADED.clear()


@DATASETS.register_module()
class DeviceCorpusDataset:
    """Serve clip indices of a device-resident corpus instead of frames.

    Wraps an ME dataset (whose subject filters, class setup and labels it
    keeps; LOSO plans reach it through the ``dataset`` key) and packs, per
    sample, ``inputs`` = ``(1,)`` int64 index of the clip in the packed
    corpus of ``corpus``, and a data sample with the label and the ME meta
    keys. Pair it with ``MEDeviceCorpusPreprocessor`` on the same ``corpus``.
    Every frame onset..offset is fed (the paper's sampling).

    Args:
        dataset (dict): config of the wrapped ME dataset (its ``pipeline`` is
            ignored; frames are never read here).
        corpus (dict): corpus spec (module docstring).
        crop_size (int): side of the frames the preprocessor feeds, for the
            ``img_shape`` meta key.
        meta_keys (Sequence[str]): meta keys packed into the data samples.
        lazy_init (bool): defer loading the wrapped dataset's annotation.
    """

    def __init__(self, dataset: dict, corpus: dict, crop_size: int = 128,
                 meta_keys: Optional[Sequence[str]] = None,
                 lazy_init: bool = False, **kwargs) -> None:
        from mmaction.datasets.transforms import PackActionInputs

        from . import ME_META_KEYS
        cfg = copy.deepcopy(dict(dataset))
        cfg.update(pipeline=[], check_frames=False)
        cfg.setdefault('test_mode', kwargs.pop('test_mode', False))
        if kwargs:
            raise TypeError(f'unexpected arguments {sorted(kwargs)}')
        cfg['lazy_init'] = True
        self.dataset = DATASETS.build(cfg)
        self.corpus = dict(corpus)
        self.crop_size = int(crop_size)
        self.pack = PackActionInputs(
            meta_keys=tuple(meta_keys or ME_META_KEYS))
        self._index: Optional[PackedClips] = None
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        self.dataset.full_init()
        self._index = corpus_index(self.corpus)
        # every sample must be in the corpus, with all its frames
        for i in range(len(self.dataset)):
            self._clip_of(i)
        self._fully_initialized = True

    def list_subjects(self) -> List[str]:
        return self.dataset.list_subjects()

    def count_clips(self) -> Dict[str, int]:
        return self.dataset.count_clips()

    def __len__(self) -> int:
        self.full_init()
        return len(self.dataset)

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(idx)

    def get_labels(self) -> np.ndarray:
        return self.dataset.get_labels()

    def _clip_of(self, idx: int) -> int:
        info = self.dataset.get_data_info(idx)
        name = info['cache_key']
        clip = self._index.index.get(name)
        if clip is None:
            raise KeyError(f'sample {idx} ({name}) is not in the corpus '
                           f'{self.corpus}')
        stored = int(self._index.lengths[clip])
        if stored != info['total_frames']:
            raise ValueError(
                f'sample {idx} ({name}): the annotation gives '
                f'{info["total_frames"]} frames (onset {info["onset"]}..'
                f'offset {info["offset"]}), the corpus {self.corpus} holds '
                f'{stored}')
        return clip

    def __getitem__(self, idx: int) -> dict:
        self.full_init()
        info = self.dataset.get_data_info(idx)
        results = dict(
            info, imgs=np.array([self._clip_of(idx)], dtype=np.int64),
            frame_numbers_fed=info['frame_numbers'],
            img_shape=(self.crop_size, self.crop_size))
        return self.pack(results)
