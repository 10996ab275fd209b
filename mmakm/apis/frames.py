"""A clip's frames from a video file or a folder of images, decoded on
access.

:func:`read_clip` checks everything that can be checked without decoding
(the file exists and is not empty, the video opens, the folder holds
numbered images whose headers are intact and of one size, onset/offset lie
within the frames) and returns a :class:`Clip` whose ``frames`` is a
:class:`FrameSequence`: frames are decoded when accessed, so a clip of
thousands of full-HD frames is never held in memory at once (the face
alignment keeps only the aligned crops).
"""
import operator
import os
import os.path as osp
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import List, Optional

import cv2
import numpy as np

from mmakm.datasets.annotation_io import frame_number, scan_frames
from mmakm.datasets.errors import CorpusError
from mmakm.datasets.transforms.loading import read_image
from mmakm.engine.user_input import UserInputError

__all__ = ['IMAGE_EXTS', 'BadClipError', 'Clip', 'FrameSequence',
           'ImageFrames', 'VideoFrames', 'FrameSubset', 'read_clip']

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
#: the formats whose headers :func:`~mmakm.datasets.check_clip_frames`
#: checks without decoding (TIFF frames are checked when decoded)
_HEADER_CHECKED = ('.jpg', '.jpeg', '.png', '.bmp')
#: how many bad files / missing numbers a message lists
_MAX_LISTED = 5


class BadClipError(UserInputError):
    """A video or frame folder that cannot be read as a clip (the message
    names the file and what was expected)."""


def _listed(items, limit: int = _MAX_LISTED) -> str:
    items = list(items)
    more = f', ... ({len(items)} in all)' if len(items) > limit else ''
    return ', '.join(str(i) for i in items[:limit]) + more


class FrameSequence(Sequence):
    """The frames of one clip, (H, W, 3) uint8 RGB, decoded on access.

    ``numbers`` (T,) are the absolute frame numbers. Integer and slice
    indexing and iteration are supported; access in increasing order (what
    iteration and the face alignment do) decodes each frame once.
    """

    def __init__(self, numbers: np.ndarray) -> None:
        self.numbers = np.asarray(numbers, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._frame(i) for i in range(*index.indices(len(self)))]
        i = operator.index(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f'frame position {index} of {len(self)}')
        return self._frame(i)

    def __iter__(self):
        for i in range(len(self)):
            yield self._frame(i)

    def _frame(self, i: int) -> np.ndarray:
        raise NotImplementedError


class ImageFrames(FrameSequence):
    """Frames from image files (one per frame, all of one size)."""

    def __init__(self, paths: List[str], numbers: np.ndarray) -> None:
        super().__init__(numbers)
        self.paths = list(paths)
        self._shape = None

    def _frame(self, i: int) -> np.ndarray:
        path = self.paths[i]
        try:
            img = read_image(path, what='frame')
        except OSError as exc:
            raise BadClipError(str(exc)) from exc
        if self._shape is None:
            self._shape = img.shape
        elif img.shape != self._shape:
            raise BadClipError(
                f'{path}: frame size {img.shape[1]}x{img.shape[0]} (WxH) '
                f'differs from the clip\'s {self._shape[1]}x{self._shape[0]}')
        return img


class VideoFrames(FrameSequence):
    """Frames of a video file; ``numbers`` are 0-based frame indices.

    The video is decoded forward (OpenCV, display rotation of phone videos
    applied); asking for an earlier frame reopens it.
    """

    def __init__(self, path: str, numbers: np.ndarray,
                 header_frames: int) -> None:
        super().__init__(numbers)
        self.path = path
        self.header_frames = header_frames
        self._cap, self._pos = None, 0

    def _frame(self, i: int) -> np.ndarray:
        target = int(self.numbers[i])
        if self._cap is None or self._pos > target:
            self.close()
            self._cap, self._pos = open_video(self.path), 0
        while self._pos < target and self._cap.grab():
            self._pos += 1
        ok, img = (self._cap.read() if self._pos == target
                   else (False, None))
        if not ok:
            self.close()
            raise BadClipError(
                f'{self.path}: frame {target} cannot be decoded (the header '
                f'lists {self.header_frames} frames): the video is truncated '
                f'or corrupt; --offset {max(target - 1, 0)} uses the frames '
                'before the damage')
        self._pos += 1
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __getstate__(self):
        return dict(self.__dict__, _cap=None, _pos=0)


class FrameSubset(Sequence):
    """``frames[p] for p in positions``, each decoded only when accessed
    (e.g. the fed frames of a clip, for the figure's strip)."""

    def __init__(self, frames: Sequence, positions: Sequence[int]) -> None:
        self.frames, self.positions = frames, list(positions)

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return FrameSubset(self.frames, self.positions[i])
        return self.frames[self.positions[i]]


@dataclass
class Clip:
    frames: Sequence                   # (H, W, 3) uint8 RGB per frame
    frame_numbers: np.ndarray          # absolute frame number of each frame
    fps: Optional[float] = None
    name: str = 'clip'
    sources: List[str] = field(default_factory=list)


def open_video(path: str) -> 'cv2.VideoCapture':
    """An opened ``cv2.VideoCapture`` that applies the display rotation
    (phone videos); BadClipError naming the file otherwise."""
    if osp.getsize(path) == 0:
        raise BadClipError(f'{path}: empty file (0 bytes); expected a video '
                           'or a folder of frames')
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise BadClipError(f'{path}: not a readable video (OpenCV cannot '
                           'open it: truncated, corrupt or not a video) nor '
                           'a folder of frames')
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


def _check_range(path: str, numbers: np.ndarray, onset, offset) -> None:
    first, last = int(numbers[0]), int(numbers[-1])
    for what, n in (('onset', onset), ('offset', offset)):
        if n is not None and not first <= n <= last:
            raise BadClipError(f'{what} {n} is outside the frames of {path} '
                               f'(frame numbers {first}..{last})')
    if onset is not None and offset is not None and onset > offset:
        raise BadClipError(f'onset {onset} is after offset {offset}')


def folder_frames(path: str):
    """``(paths, numbers)`` of the images of a folder, in frame order.

    Images are the visible files with an extension of :data:`IMAGE_EXTS`
    in any case (macOS ``._*`` files are no frames). The frame number is
    the last number in the name (``img46.jpg`` -> 46, zero-padded or not);
    when no name holds a number, the sorted names are numbered 0, 1, ...
    """
    names = sorted(n for n in os.listdir(path) if not n.startswith('.')
                   and osp.splitext(n)[1].lower() in IMAGE_EXTS
                   and osp.isfile(osp.join(path, n)))
    if not names:
        raise BadClipError(f'{path}: no image files ({", ".join(IMAGE_EXTS)})'
                           '; expected one image per frame')
    found = [frame_number(osp.splitext(n)[0]) for n in names]
    if all(n is None for n in found):
        return [osp.join(path, n) for n in names], np.arange(len(names))
    unnumbered = [n for n, number in zip(names, found) if number is None]
    if unnumbered:
        raise BadClipError(f'{path}: image(s) without a frame number in the '
                           f'name: {_listed(unnumbered)}; expected names like '
                           'img46.jpg (or no number in any name)')
    try:  # the corpora's rule: numbered by the name's last integer, once
        by_number = scan_frames(path, extensions=IMAGE_EXTS)
    except CorpusError as exc:
        raise BadClipError(str(exc)) from exc
    numbers = np.array(sorted(by_number), dtype=np.int64)
    return [by_number[n] for n in numbers], numbers


def read_clip(path: str, onset: Optional[int] = None,
              offset: Optional[int] = None,
              fps: Optional[float] = None) -> Clip:
    """A video file or a folder of frames, cut to onset..offset (inclusive).

    Frame numbers: for a folder, the last number in each file name
    (``img46.jpg`` -> 46; no number in any name: position); for a video,
    the 0-based frame index. ``onset``/``offset`` use the same numbering
    and must lie within the frames. Frames missing from a folder's
    numbering are named in a warning.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        BadClipError: naming the file and what was expected.
    """
    from mmakm.datasets.integrity import check_clip_frames
    if not osp.exists(path):
        raise FileNotFoundError(f'{path}: no such file or folder')
    name = osp.basename(osp.normpath(path))
    if osp.isdir(path):
        paths, numbers = folder_frames(path)
        _check_range(path, numbers, onset, offset)
        keep = ((numbers >= (numbers[0] if onset is None else onset))
                & (numbers <= (numbers[-1] if offset is None else offset)))
        paths = [p for p, k in zip(paths, keep) if k]
        numbers = numbers[keep]
        problems = check_clip_frames(
            [p for p in paths if osp.splitext(p)[1].lower() in
             _HEADER_CHECKED])
        if problems:
            raise BadClipError(f'{len(problems)} unusable frame(s) in {path}: '
                               f'{_listed(problems, 3)}')
        missing = np.setdiff1d(np.arange(numbers[0], numbers[-1] + 1),
                               numbers)
        if len(missing):
            warnings.warn(f'{path}: {len(missing)} frame number(s) missing '
                          f'between {numbers[0]} and {numbers[-1]}: '
                          f'{_listed(missing)}; the clip runs on the '
                          f'{len(numbers)} frames present')
        return Clip(ImageFrames(paths, numbers), numbers, fps, name, paths)
    cap = open_video(path)
    try:
        fps = fps or (cap.get(cv2.CAP_PROP_FPS) or None)
        header = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if header <= 0:  # a stream without a frame count: count them
            header = 0
            while cap.grab():
                header += 1
    finally:
        cap.release()
    if header <= 0:
        raise BadClipError(f'{path}: the video holds no decodable frame')
    _check_range(path, np.array([0, header - 1]), onset, offset)
    lo = 0 if onset is None else onset
    hi = header - 1 if offset is None else offset
    numbers = np.arange(lo, hi + 1, dtype=np.int64)
    return Clip(VideoFrames(path, numbers, header), numbers, fps, name,
                [path])
