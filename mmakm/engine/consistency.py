"""Config consistency checks run before anything is trained or tested."""
import copy
from typing import Dict, Optional, Tuple

from mmengine.config import Config

__all__ = ['ConfigMismatchError', 'config_classes', 'check_num_classes',
           'check_frame_cache', 'check_pretrained_backbone']


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
