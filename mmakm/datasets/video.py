"""Frames of a video sample, read through decord.

One place decides how a dataset reads a video (:class:`MEFrameDecode` at
decode time, :class:`MEBaseDataset` when it checks a sample at load time):

* the frame count is what decord indexes (``len(VideoReader)``); a frame
  it lists but cannot decode (a truncated file whose index promises more)
  is an error naming the file, the frames asked for and the count;
* the display rotation that phones write into the container is applied
  (by decord itself), as ``tools/demo.py`` applies it;
* a video decord cannot copy out (decord 0.6 fails on frames 16, 24, 48
  or 72 px wide, among others) is refused with that reason, not decoded
  into wrong pixels.
"""
import os.path as osp
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
    """decord's message without its C++ stack trace."""
    lines = [s.strip() for s in str(exc).splitlines() if s.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text[:300]


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
    except Exception as exc:
        raise VideoReadError(_decode_error(path, vr, uniq, exc)) from None
    finally:
        del vr
    if frames.shape[0] != len(uniq) or frames.ndim != 4 or \
            frames.shape[3] != 3:
        raise VideoReadError(f'{path}: decord returned frames of shape '
                             f'{frames.shape} for {len(uniq)} frames; '
                             'expected (N, H, W, 3)')
    return frames[inverse]


def _decode_error(path, vr, uniq, exc) -> str:
    n = len(vr)
    asked = (f'frames {int(uniq[0])}..{int(uniq[-1])}' if len(uniq) > 1
             else f'frame {int(uniq[0])}')
    msg = _last_line(exc)
    if 'DECORDArrayCopyFromTo' in str(exc):
        cap = cv2.VideoCapture(path)
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(
            cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        cap.release()
        return (f'{path}: decord cannot copy out frames {w}x{h} (WxH) '
                f'({asked} asked; decord 0.6 fails on some frame widths, '
                'e.g. 16, 24, 48, 72 px): re-encode the video at another '
                'width or extract its frames to an image folder')
    first = _first_undecodable(path, uniq)
    if first is not None:
        asked = f'frame {first}'
    return (f'{path}: {asked} (0-based) cannot be decoded, the video lists '
            f'{n} frames (0..{n - 1}): it is truncated or corrupt (decord: '
            f'{msg}); end the sample earlier or re-encode the video')


def _first_undecodable(path: str, uniq: np.ndarray):
    """The first of ``uniq`` that decord cannot decode (a fresh reader per
    try: a failed read can leave one unusable); None if none is found."""
    import decord
    for i in uniq.tolist():
        try:
            decord.VideoReader(path, num_threads=1).get_batch([i])
        except Exception:
            return int(i)
    return None
