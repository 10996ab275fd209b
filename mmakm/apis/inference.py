"""Read one clip, run a config's test pipeline and model on it.

The clip goes through the SAME test pipeline as the dataset samples (the
frames are written to a temporary folder as lossless PNGs and described by
a sample dict shaped like ``MEBaseDataset``'s), so the demo sees exactly
what ``tools/test.py`` would.
"""
import os
import os.path as osp
import re
import tempfile
from dataclasses import dataclass, field
from typing import List, Optional

import cv2
import numpy as np

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')


@dataclass
class Clip:
    frames: List[np.ndarray]           # RGB uint8 HxWx3
    frame_numbers: np.ndarray          # absolute frame number of each frame
    fps: Optional[float] = None
    name: str = 'clip'
    sources: List[str] = field(default_factory=list)


def _number(name: str) -> Optional[int]:
    nums = re.findall(r'\d+', osp.splitext(name)[0])
    return int(nums[-1]) if nums else None


def _read_folder(path: str):
    names = [n for n in os.listdir(path) if n.lower().endswith(IMAGE_EXTS)]
    if not names:
        raise ValueError(f'{path}: no image files ({", ".join(IMAGE_EXTS)})')
    numbers = [_number(n) for n in names]
    if None in numbers or len(set(numbers)) != len(numbers):
        names.sort()
        numbers = list(range(len(names)))
    else:
        order = np.argsort(numbers, kind='stable')
        names = [names[i] for i in order]
        numbers = [numbers[i] for i in order]
    return names, np.asarray(numbers, dtype=np.int64)


def _imread_rgb(path: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f'cannot read image {path}')
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def read_clip(path: str, onset: Optional[int] = None,
              offset: Optional[int] = None,
              fps: Optional[float] = None) -> Clip:
    """A video file or a folder of frames, cut to onset..offset (inclusive).

    Frame numbers: for a folder, the last number in each file name
    (``img46.jpg`` -> 46; files without numbers: position); for a video,
    the 0-based frame index. ``onset``/``offset`` use the same numbering.
    """
    if not osp.exists(path):
        raise FileNotFoundError(f'{path}: no such file or folder')
    lo = -np.inf if onset is None else onset
    hi = np.inf if offset is None else offset
    if lo > hi:
        raise ValueError(f'onset {onset} is after offset {offset}')
    name = osp.basename(osp.normpath(path))
    if osp.isdir(path):
        names, numbers = _read_folder(path)
        keep = [i for i, n in enumerate(numbers) if lo <= n <= hi]
        sources = [osp.join(path, names[i]) for i in keep]
        frames = [_imread_rgb(p) for p in sources]
        numbers = numbers[keep]
    else:
        cap = cv2.VideoCapture(path)
        if not cap.isOpened():
            raise ValueError(f'{path}: not a readable video (OpenCV cannot '
                             'open it) nor a folder of frames')
        fps = fps or (cap.get(cv2.CAP_PROP_FPS) or None)
        frames, nums, i = [], [], 0
        while i <= hi:
            ok, img = cap.read()
            if not ok:
                break
            if i >= lo:
                frames.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
                nums.append(i)
            i += 1
        cap.release()
        numbers, sources = np.asarray(nums, dtype=np.int64), [path]
    if not frames:
        raise ValueError(f'{path}: no frames between onset {onset} and '
                         f'offset {offset}')
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise ValueError(f'{path}: frames of different sizes {sorted(shapes)}')
    return Clip(frames, numbers, fps, name, sources)


def init_model(config, checkpoint: Optional[str], device: str = 'cpu',
               cfg_options: Optional[dict] = None):
    """Build the recognizer of ``config`` and load ``checkpoint``.

    The checkpoint must fit the model exactly (every key, every shape);
    otherwise :class:`~mmakm.engine.checkpoint.CheckpointError` lists the
    missing, unexpected and mismatched keys.

    Returns ``(model, classes)``; ``classes`` come from the checkpoint's
    ``dataset_meta`` (None if it has none).
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
    model.eval()
    return model, (tuple(classes) if classes else None)


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
    with tempfile.TemporaryDirectory(prefix='mmakm_demo_') as tmp:
        paths = []
        for n, frame in zip(fn, clip.frames):
            p = osp.join(tmp, f'img{int(n)}.png')
            cv2.imwrite(p, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
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
