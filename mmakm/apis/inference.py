"""Read one clip, run a config's test pipeline and model on it.

The clip goes through the SAME test pipeline as the dataset samples (the
frames are written to a temporary folder as lossless PNGs and described by
a sample dict shaped like ``MEBaseDataset``'s), so the demo sees exactly
what ``tools/test.py`` would.
"""
import os.path as osp
import tempfile
from typing import Optional

import cv2
import numpy as np

from .frames import Clip


def init_model(config, checkpoint: Optional[str], device: str = 'cpu',
               cfg_options: Optional[dict] = None):
    """Build the recognizer of ``config`` and load ``checkpoint``.

    The checkpoint must fit the model exactly (every key, every shape);
    otherwise :class:`~mmakm.engine.checkpoint.CheckpointError` lists the
    missing, unexpected and mismatched keys.

    Returns ``(model, classes)``: the class names of the checkpoint's
    ``dataset_meta``, else those of the config's test dataset (its class
    setup), else None.

    Raises:
        CheckpointError: the checkpoint is unreadable or does not fit.
        ConfigMismatchError: the checkpoint was trained for other classes
            than the config's test dataset names, or the head's
            ``num_classes`` disagrees with the class setup.
    """
    import mmakm  # noqa: F401  (stack fixes, registration)
    from mmaction.apis import init_recognizer

    from mmakm.engine.checkpoint import load_weights, read_checkpoint
    from mmakm.engine.user_input import load_config, merge_cfg_options
    if isinstance(config, str):
        cfg = load_config(config, cfg_options)
    else:
        cfg = config
        merge_cfg_options(cfg, cfg_options)
    # read first: an unreadable checkpoint fails before the model is built
    ckpt = read_checkpoint(checkpoint) if checkpoint else None
    model = init_recognizer(cfg, None, device=device)
    classes = None
    if ckpt is not None:
        load_weights(model, ckpt, checkpoint, strict=True)
        meta = ckpt.get('meta', {}) or {}
        classes = (meta.get('dataset_meta') or {}).get('classes')
    classes = _check_classes(cfg, tuple(classes) if classes else None,
                             checkpoint)
    model.eval()
    return model, classes


def _check_classes(cfg, ckpt_classes: Optional[tuple],
                   checkpoint: Optional[str]) -> Optional[tuple]:
    """The class names the model predicts (see :func:`init_model`)."""
    from mmakm.engine.consistency import (ConfigMismatchError,
                                          check_num_classes, config_classes)
    try:
        found = config_classes(cfg)
    except Exception:  # noqa: BLE001 (a dataset that cannot be built lazily)
        found = {}
    check_num_classes(cfg, found)
    test = [names for key, (_, names) in found.items()
            if key.startswith('test_dataloader')]
    cfg_classes = tuple(test[0]) if test else None
    if ckpt_classes and cfg_classes and ckpt_classes != cfg_classes:
        raise ConfigMismatchError(
            f'{checkpoint} was trained for the classes {list(ckpt_classes)}'
            f', the config\'s test dataset has {list(cfg_classes)}: use the '
            'config the checkpoint was trained with (or its class_setup)')
    return ckpt_classes or cfg_classes


def test_pipeline_cfg(cfg):
    from mmakm.loso.plan import leaf_datasets
    leaves = leaf_datasets(cfg.test_dataloader.dataset)
    pipeline = leaves[0].get('pipeline') if leaves else None
    if pipeline is None:
        pipeline = cfg.get('test_pipeline')
    if pipeline is None:
        raise ValueError('the config has no test pipeline')
    return pipeline


def infer_clip(model, clip: Clip, apex: Optional[int] = None,
               onset: Optional[int] = None, offset: Optional[int] = None):
    """Class probabilities, key frames and β of one clip.

    Returns a dict: ``probs`` (num_classes,), ``pred_label``,
    ``frame_numbers_fed`` (absolute numbers of the frames the model saw),
    ``fed_positions`` (their indices into ``clip.frames``), ``key_frames``
    (0-based positions within the fed frames) and ``frame_weights`` (β per
    fed frame); the last two are None for models without key-frame mining.
    """
    from mmaction.apis import inference_recognizer
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope
    init_default_scope(model.cfg.get('default_scope', 'mmaction'))
    pipeline = Compose(test_pipeline_cfg(model.cfg))
    fn = np.asarray(clip.frame_numbers, dtype=np.int64)
    if len(clip.frames) != len(fn):
        raise ValueError(f'{len(clip.frames)} frames for {len(fn)} frame '
                         'numbers')
    with tempfile.TemporaryDirectory(prefix='mmakm_demo_') as tmp:
        paths = []
        for n, frame in zip(fn, clip.frames):  # one frame in memory at a time
            p = osp.join(tmp, f'img{int(n)}.png')
            # cv2 returns False (no exception) when it cannot write
            if not cv2.imwrite(p, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)):
                raise OSError(f'cannot write frame {int(n)} of {clip.name} '
                              f'to {p} (temporary folder full or not '
                              'writable? set TMPDIR to another folder)')
            paths.append(p)
        sample = dict(
            frame_paths=paths, frame_numbers=fn, total_frames=len(fn),
            onset=int(fn[0] if onset is None else onset),
            offset=int(fn[-1] if offset is None else offset),
            apex=-1 if apex is None else int(apex),
            label=-1, emotion='', subject='demo', corpus='demo',
            clip_id=clip.name, fps=float(clip.fps or 0.0), start_index=0,
            modality='RGB')
        result = inference_recognizer(model, sample, test_pipeline=pipeline)

    def arr(x):
        return None if x is None else np.asarray(
            x.detach().cpu() if hasattr(x, 'detach') else x)

    fed = arr(result.metainfo.get('frame_numbers_fed', None))
    if fed is None:
        fed = fn
    index = {int(n): i for i, n in enumerate(fn)}
    probs = arr(result.pred_score).astype(np.float64).reshape(-1)
    return dict(
        probs=probs,
        pred_label=int(np.argmax(probs)),
        frame_numbers_fed=fed.astype(np.int64),
        fed_positions=[index[int(n)] for n in fed],
        key_frames=arr(result.get('key_frames', None)),
        frame_weights=arr(result.get('frame_weights', None)))
