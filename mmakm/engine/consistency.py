"""Config consistency checks run before anything is trained or tested."""
import copy
from typing import Dict, Optional, Tuple

from mmengine.config import Config

__all__ = ['ConfigMismatchError', 'config_classes', 'check_num_classes',
           'check_frame_cache', 'check_pretrained_backbone',
           'check_clip_batching']


class ConfigMismatchError(ValueError):
    """Parts of a config that contradict each other."""


def _describe(leaf) -> str:
    setup = leaf.get('class_setup', 'raw')
    setup = setup if isinstance(setup, str) else 'dict'
    return f"{leaf.get('type')} with class_setup '{setup}'"


def config_classes(cfg: Config) -> Dict[str, Tuple[str, Tuple[str, ...]]]:
    """``{'<loader>.dataset': (description, classes)}`` of every ME dataset
    of the config's dataloaders (class names only: no frame is read)."""
    from mmengine.registry import init_default_scope

    from mmaction.registry import DATASETS
    from mmakm.datasets.base import MEBaseDataset
    from mmakm.loso.plan import dataloader_datasets
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    out = {}
    for loader, leaves in dataloader_datasets(cfg):
        for i, leaf in enumerate(leaves):
            ds_type = leaf.get('type')
            ds_cls = (DATASETS.get(ds_type) if isinstance(ds_type, str)
                      else ds_type)
            if not (isinstance(ds_cls, type)
                    and issubclass(ds_cls, MEBaseDataset)):
                continue
            leaf = copy.deepcopy(dict(leaf))
            leaf.update(lazy_init=True, pipeline=[])
            name = f'{loader}.dataset' + (f'[{i}]' if len(leaves) > 1 else '')
            out[name] = (_describe(leaf),
                         DATASETS.build(leaf).class_names())
    return out


def check_num_classes(cfg: Config,
                      classes: Optional[Dict[str, tuple]] = None) -> None:
    """Every ME dataset of the config must have the same classes, in the
    same order, and ``model.cls_head.num_classes`` must equal their number.

    Datasets whose class setups name other classes (or the same ones in
    another order) give the same label index different meanings: a model
    trained on one and tested on the other, or a concatenation of both,
    would score against a shifted table. A larger head trains and tests
    with dead classes, a smaller one fails mid-epoch with an
    ``IndexError``. All are refused here, naming each dataset's class
    setup and classes.

    Args:
        classes: ``config_classes(cfg)`` when already known.

    Raises:
        ConfigMismatchError: naming the head setting and every disagreeing
            dataset.
    """
    if classes is None:
        classes = config_classes(cfg)
    if len({names for _, names in classes.values()}) > 1:
        raise ConfigMismatchError(
            'the datasets of the config have different classes (label i '
            'would mean another class in each):\n  ' + '\n  '.join(
                f'{k} ({desc}): {list(names)}'
                for k, (desc, names) in classes.items()) +
            '\nUse one class setup (the same classes, in the same order) '
            'for all of them, e.g. a dict class_setup.')
    head = (cfg.get('model') or {}).get('cls_head') or {}
    num_classes = head.get('num_classes') if hasattr(head, 'get') else None
    if num_classes is None:
        return
    wrong = {k: v for k, v in classes.items() if len(v[1]) != num_classes}
    if not wrong:
        return
    lines = [f'{k} ({desc}) gives {len(names)} classes {list(names)}'
             for k, (desc, names) in wrong.items()]
    right = sorted({len(v[1]) for v in wrong.values()})
    raise ConfigMismatchError(
        f'model.cls_head.num_classes = {num_classes} does not match the '
        'data:\n  ' + '\n  '.join(lines) + '\nSet model.cls_head.num_classes='
        f'{right[0] if len(right) == 1 else right} (or the class_setup the '
        'model was meant for).')


def check_frame_cache(cfg: Config) -> None:
    """The frame cache a config reads must have been made with the config's
    ``preprocess`` recipe (``tools/preprocess.py CONFIG``): training on
    clips aligned, stabilised or magnified otherwise than the config says
    is refused.

    Raises:
        ConfigMismatchError: naming the cache, both recipes and the fix.
    """
    from mmakm.preprocessing.runner import config_cache_mismatch
    try:
        why = config_cache_mismatch(cfg)
    except ValueError as exc:  # a bad recipe, an unreadable cache recipe
        raise ConfigMismatchError(str(exc)) from exc
    if why:
        raise ConfigMismatchError(
            '\n'.join(why) + '\nPreprocess into another cache_dir with this '
            'config (python tools/preprocess.py CONFIG OUT_DIR, then '
            'train_dataloader.dataset.cache_dir=OUT_DIR and the same for '
            'test), or train with the recipe the cache was made with.')


def check_pretrained_backbone(cfg: Config) -> None:
    """Load the config's ``model.backbone.pretrained`` weights (a
    ``FrameResNet`` given a file) into the backbone it builds, once: a file
    that is missing or does not fit stops a LOSO run with one message
    before its first fold, instead of failing every fold.

    Raises:
        mmakm.engine.CheckpointError: naming the file and the keys.
    """
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS
    backbone = (cfg.get('model') or {}).get('backbone') or {}
    if backbone.get('type') != 'FrameResNet' or not backbone.get(
            'pretrained'):
        return
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    MODELS.build(copy.deepcopy(backbone)).init_weights()


def _registered(registry, type_):
    """The class a config ``type`` names (None if unknown)."""
    cls = registry.get(type_) if isinstance(type_, str) else type_
    return cls if isinstance(cls, type) else None


def _varying_length_sampler(pipeline) -> Optional[dict]:
    """The ``MESampleFrames`` step of ``pipeline`` if it feeds clips of
    varying length (every ``stride``-th frame onset..offset, at most
    ``max_len``), else None (fixed ``num_frames``, ``num_clips`` segments,
    one frame, or another sampler)."""
    for step in pipeline or ():
        if (isinstance(step, dict) and step.get('type') == 'MESampleFrames'
                and step.get('mode', 'clip') == 'clip'
                and step.get('num_frames') is None
                and step.get('num_clips') is None):
            return step
    return None


def check_clip_batching(cfg: Config) -> None:
    """The model's data preprocessor must take the clips the pipelines
    give.

    * ``MEDataPreprocessor`` (and ``MEDeviceCorpusPreprocessor``) pack
      variable-length clips into ``(ΣT, C, H, W)`` with per-sample
      ``num_frames``: only recognizers that read packed clips (``AKMNet``)
      take that; MMAction2's ``Recognizer2D``/``Recognizer3D`` expect
      ``(N, ...)`` batches and fail deep inside the backbone.
    * Any other preprocessor (MMAction2's ``ActionDataPreprocessor``)
      stacks the clips of a batch, which needs equal lengths: with
      ``MESampleFrames`` feeding every frame onset..offset and a batch of
      more than one clip, training would fail at the first batch that
      happens to mix lengths.

    Raises:
        ConfigMismatchError: naming the preprocessor, the model or the
            dataloader and what to change.
    """
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS
    from mmakm.loso.plan import dataloader_datasets
    from mmakm.models import AKMNet, MEDataPreprocessor
    model = cfg.get('model') or {}
    if not hasattr(model, 'get'):
        return
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model_cls = _registered(MODELS, model.get('type'))
    packed_model = model_cls is not None and issubclass(model_cls, AKMNet)
    pre = model.get('data_preprocessor') or {}
    pre_type = pre.get('type') if hasattr(pre, 'get') else None
    if pre_type is None:  # the recognizer's default
        pre_type = 'MEDataPreprocessor' if packed_model else \
            'ActionDataPreprocessor'
    pre_cls = _registered(MODELS, pre_type)
    packs = pre_cls is not None and issubclass(pre_cls, MEDataPreprocessor)
    pre_name = getattr(pre_cls, '__name__', str(pre_type))
    if packs:
        if model_cls is not None and not packed_model:
            raise ConfigMismatchError(
                f'model.data_preprocessor {pre_name} packs the clips of a '
                'batch into (sum T, C, H, W) for recognizers that read '
                f'packed clips (AKMNet); model {model_cls.__name__} expects '
                '(N, ...) batches: use dict(type=\'ActionDataPreprocessor\', '
                "mean=..., std=..., format_shape='NCHW' or 'NCTHW') with "
                'fixed-length clips (MESampleFrames num_clips=N or '
                'num_frames=K).')
        return
    for loader, leaves in dataloader_datasets(cfg):
        if (cfg[loader].get('batch_size') or 1) <= 1:
            continue
        for leaf in leaves:
            step = _varying_length_sampler(leaf.get('pipeline'))
            if step is None:
                continue
            raise ConfigMismatchError(
                f'{loader}: {dict(step)} feeds every frame onset..offset '
                'of each clip (clips of different lengths), but '
                f'model.data_preprocessor {pre_name} stacks the clips of a '
                f'batch ({loader}.batch_size={cfg[loader].batch_size}) and '
                'needs equal lengths. Give MESampleFrames num_clips=N '
                '(TSN-style segments, FormatShape NCHW) or num_frames=K '
                '(K frames evenly spaced, FormatShape NCTHW for 3D models; '
                'the configs/_base_ pipelines tsn_*/i3d_*_pipeline), or use '
                'a recognizer that takes variable-length clips (AKMNet with '
                'MEDataPreprocessor).')
