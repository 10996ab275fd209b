"""Frames of a video sample, read through decord.

One place decides how a dataset reads a video (:class:`MEFrameDecode` at
decode time, :class:`MEBaseDataset` when it checks a sample at load time):

* the frame count is what decord indexes (``len(VideoReader)``); a frame
  it lists but cannot decode (a truncated file whose index promises more)
  is an error naming the file, that frame, the count and how many decode;
* when decord fails -- on a damaged file it may fail on good frames too,
  as it reads ahead, and decord 0.6 cannot copy out frames 16, 24, 48 or
  72 px wide -- the frames are decoded again, forward, with OpenCV (a
  warning names the file): the frames up to the damage always load;
* the display rotation that phones write into the container is applied
  (decord applies it; OpenCV is asked to), as ``tools/demo.py`` does.
"""
import os.path as osp
import warnings
from typing import Sequence

import cv2
import numpy as np

from .errors import BadSampleError

__all__ = ['VideoReadError', 'video_frame_count', 'read_video_frames']


class VideoReadError(BadSampleError, IOError):
    """A video sample whose frames cannot be read (the message names the
    file, the frames asked for and what the file holds)."""


def _reader(path: str):
    """An opened ``decord.VideoReader``; VideoReadError naming the file."""
    import decord
    if not osp.isfile(path):
        raise VideoReadError(f'video file not found: {path}')
    if osp.getsize(path) == 0:
        raise VideoReadError(f'{path}: empty file (0 bytes); expected a '
                             'video')
    try:
        return decord.VideoReader(path, num_threads=1)
    except Exception as exc:  # decord raises RuntimeError / DECORDError
        raise VideoReadError(f'{path}: not a readable video (decord: '
                             f'{_last_line(exc)}); expected an mp4/avi/... '
                             'video: truncated, corrupt or not a video')


def _last_line(exc: Exception) -> str:
    """decord's message without its C++ stack trace and source paths."""
    lines = [s.strip() for s in str(exc).splitlines() if s.strip()]
    text = lines[0] if lines else type(exc).__name__
    failed = text.rfind('Check failed:')
    return text[failed if failed >= 0 else 0:][:200]


def video_frame_count(path: str) -> int:
    """Frames decord lists in a video; VideoReadError if it cannot open."""
    return len(_reader(path))


def read_video_frames(path: str, inds: Sequence[int]) -> np.ndarray:
    """Frames ``inds`` (0-based video frame indices, any order, repeats
    allowed) of a video as (N, H, W, 3) uint8 RGB, display rotation
    applied.

    Raises:
        VideoReadError: naming ``path``, the frame asked for and the number
            of frames the video lists, when a frame is out of range or
            cannot be decoded.
    """
    inds = np.asarray(inds, dtype=np.int64).reshape(-1)
    vr = _reader(path)
    n = len(vr)
    if len(inds) and (inds.min() < 0 or inds.max() >= n):
        bad = int(inds.max() if inds.max() >= n else inds.min())
        raise VideoReadError(f'{path}: needs video frame {bad} (0-based), '
                             f'the video has {n} frames (0..{n - 1})')
    uniq, inverse = np.unique(inds, return_inverse=True)
    try:
        frames = vr.get_batch(uniq.tolist()).asnumpy()
        if frames.ndim != 4 or frames.shape[::3] != (len(uniq), 3):
            raise ValueError(f'decord returned frames of shape {frames.shape}')
    except Exception as exc:  # read the frames again, in order, with OpenCV
        frames = _opencv_frames(path, uniq, n, _last_line(exc))
    finally:
        del vr
    return frames[inverse]


def _opencv_frames(path: str, uniq: np.ndarray, n: int,
                   why: str) -> np.ndarray:
    """Frames ``uniq`` (sorted) decoded forward by OpenCV, which decodes
    a damaged file deterministically up to the damage (decord may fail on
    good frames of it when reading ahead) and copies out every width;
    VideoReadError naming the first frame that does not decode."""
    warnings.warn(f'{path}: decord failed ({why}); frames read with OpenCV')
    cap = cv2.VideoCapture(path)
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)  # as decord and the demo do
    want, out, pos = set(uniq.tolist()), [], 0
    try:
        while pos <= uniq[-1]:
            ok, img = (cap.read() if pos in want else (cap.grab(), None))
            if not ok:
                decoded = (f'the first {pos} (0..{pos - 1}) decode' if pos
                           else 'none decodes')
                raise VideoReadError(
                    f'{path}: frame {pos} (0-based) cannot be decoded, the '
                    f'video lists {n} frames (0..{n - 1}) and {decoded}: it '
                    f'is truncated or corrupt (decord: {why}); end the '
                    'sample before that frame or re-encode the video')
            if img is not None:
                out.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
            pos += 1
    finally:
        cap.release()
    return np.stack(out)
