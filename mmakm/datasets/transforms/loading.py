"""Frame decoding for ME samples (image folders, video files or the
preprocessed frame cache)."""
import os.path as osp

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmaction.registry import TRANSFORMS

from ..errors import PipelineError
from ..integrity import odd_sizes


def _sample_name(results) -> str:
    return (f"clip {results.get('clip_id')} of {results.get('subject')}")


def read_image(path: str, to_gray: bool = False, context: str = '',
               what: str = 'image') -> np.ndarray:
    """Read an image file as HxWx3 RGB (``to_gray``: HxWx1) uint8.

    8-bit images as they are (grey, palette and RGBA images in colour,
    alpha dropped); 16-bit ones keep their top 8 bits (what OpenCV gives,
    so a 10/12-bit sensor's frames come out dark). Floating-point images
    (TIFF, EXR) are refused: their range (0..1 or 0..255) is not known.
    Errors name the file and ``context`` (e.g. the sample).
    """
    flag = (cv2.IMREAD_GRAYSCALE if to_gray else cv2.IMREAD_COLOR) | \
        cv2.IMREAD_ANYDEPTH
    img = None
    suffix = f' ({context})' if context else ''
    if osp.isfile(path):
        data = np.fromfile(path, dtype=np.uint8)
        if data.size:
            img = cv2.imdecode(data, flag)
    else:
        raise FileNotFoundError(f'{what} not found: {path}{suffix}')
    if img is None:
        raise IOError(f'unreadable image: {path}{suffix}; expected a jpg/'
                      'bmp/png image')
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise IOError(f'{img.dtype} image: {path}{suffix}; expected 8- or '
                      '16-bit pixels (the range of floating-point ones is '
                      'not known): convert the frames to 8-bit PNG/JPEG')
    if to_gray:
        return img[..., None]
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


@TRANSFORMS.register_module()
class MEFrameDecode(BaseTransform):
    """Read the frames ``frame_inds`` of a sample into ``imgs``.

    Image samples (``frame_paths``) are read with OpenCV; video samples
    (``filename`` + ``video_frame_inds``) through decord
    (:func:`~mmakm.datasets.video.read_video_frames`: OpenCV where decord
    fails); cached samples
    (``cache_file`` + ``cache_rows``, see ``MEBaseDataset(cache_dir=...)``)
    as one memory-mapped slice of the clip's ``.npy`` (no per-frame reads). ``imgs`` is a list
    of HxWx3 uint8 RGB arrays; grayscale images (SAMM) are replicated to 3
    channels, unless ``to_gray=True`` which gives HxWx1 (note: MMAction2's
    Resize drops a singleton channel; to resize grayscale frames, decode in
    colour and put :class:`METoGray` after the spatial transforms).

    Errors name the file and the sample (clip id, subject).
    """

    def __init__(self, to_gray: bool = False, io_backend: str = 'disk'):
        if io_backend != 'disk':
            raise ValueError(f"io_backend {io_backend!r}: only 'disk'")
        self.to_gray = to_gray
        self.io_backend = io_backend

    def _read_image(self, path, results):
        return read_image(path, self.to_gray, _sample_name(results), 'frame')

    def _read_video(self, results, inds):
        from ..video import VideoReadError, read_video_frames
        path = results['filename']
        vinds = np.asarray(results['video_frame_inds'])[inds]
        try:
            frames = read_video_frames(path, vinds)
        except VideoReadError as exc:
            raise VideoReadError(f'{exc} ({_sample_name(results)})') from None
        imgs = list(frames)
        if self.to_gray:
            imgs = [cv2.cvtColor(im, cv2.COLOR_RGB2GRAY)[..., None]
                    for im in imgs]
        return imgs

    @staticmethod
    def _size_error(results, inds, shapes) -> str:
        """Name the frames whose size differs from the clip's (the size
        most of its frames have)."""
        clip_shape, odd_pos = odd_sizes(shapes)
        odd = [(int(inds[k]), shapes[k]) for k in odd_pos]
        if 'frame_paths' in results:
            names = [f"{results['frame_paths'][i]} ({s[1]}x{s[0]})"
                     for i, s in odd]
        else:
            vinds = np.asarray(results['video_frame_inds'])
            names = [f"frame {int(vinds[i])} of {results['filename']} "
                     f'({s[1]}x{s[0]})' for i, s in odd]
        return (f'{_sample_name(results)}: frame size differs from the '
                f"clip's {clip_shape[1]}x{clip_shape[0]} (WxH): " +
                ', '.join(dict.fromkeys(names)))

    def _read_cache(self, results, inds):
        from mmakm.preprocessing.cache import load_frames
        rows = np.asarray(results['cache_rows'])[inds]
        try:
            clip = load_frames(results['cache_file'], rows)  # (N, S, S, 3)
        except (OSError, ValueError, IndexError) as exc:
            raise IOError(f"cannot read cached clip {results['cache_file']} "
                          f'({_sample_name(results)}): {type(exc).__name__}: '
                          f'{exc}; preprocess again') from exc
        if self.to_gray:
            gray = clip.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])
            return list(np.rint(gray).astype(np.uint8)[..., None])
        return list(clip)

    def transform(self, results: dict) -> dict:
        inds = np.asarray(results['frame_inds'], dtype=np.int64)
        if 'cache_file' in results:
            imgs = self._read_cache(results, inds)
        elif 'frame_paths' in results:
            paths = results['frame_paths']
            cache = {}
            imgs = []
            for i in inds.tolist():
                if i not in cache:
                    cache[i] = self._read_image(paths[i], results)
                imgs.append(cache[i])
        elif 'filename' in results and 'video_frame_inds' in results:
            imgs = self._read_video(results, inds)
        else:
            # e.g. a sample of MMAction2's VideoDataset / RawframeDataset
            raise PipelineError(
                f'{type(self).__name__} reads the onset..offset clips of '
                "mmakm's ME datasets (frame_paths, a video with "
                'video_frame_inds, or the frame cache); this sample has '
                f'{sorted(k for k in results if k != "frame_inds")}, from '
                "another dataset (MMAction2's VideoDataset or "
                'RawframeDataset?): decode it with that dataset\'s decoder '
                "(DecordInit + DecordDecode, RawFrameDecode). MESampleFrames "
                'and METoGray/MEMagnify work on such samples too.')
        shapes = [im.shape for im in imgs]
        if len(set(shapes)) > 1:
            raise ValueError(self._size_error(results, inds, shapes))
        results['imgs'] = imgs
        results['original_shape'] = imgs[0].shape[:2]
        results['img_shape'] = imgs[0].shape[:2]
        return results

    def __repr__(self):
        return f'{type(self).__name__}(to_gray={self.to_gray})'


@TRANSFORMS.register_module()
class METoGray(BaseTransform):
    """Convert RGB ``imgs`` to grayscale: HxWx1, or HxWx3 replicated
    (``keep_channels=True``, for 3-channel backbones)."""

    def __init__(self, keep_channels: bool = False):
        self.keep_channels = keep_channels

    def transform(self, results: dict) -> dict:
        out = []
        for im in results['imgs']:
            if im.ndim == 3 and im.shape[2] == 3:
                g = cv2.cvtColor(np.ascontiguousarray(im), cv2.COLOR_RGB2GRAY)
            else:
                g = im.reshape(im.shape[:2])
            out.append(np.repeat(g[..., None], 3, axis=2)
                       if self.keep_channels else g[..., None])
        results['imgs'] = out
        return results
