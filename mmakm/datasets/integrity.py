"""Fast integrity check of a clip's image frames (no pixel is decoded).

    from mmakm.datasets.integrity import check_clip_frames
    problems = check_clip_frames(paths)      # [] when every frame is fine
    for p in problems:
        print(p)                             # '<path>: <what is wrong>'

Each frame's header is parsed and its end checked: a zero-byte file, a file
that is no JPEG/PNG/BMP, a truncated file (JPEG without its end-of-image
marker, PNG without its ``IEND`` chunk, BMP shorter than its pixel array) or
a frame whose size differs from the rest of its clip is a problem naming the
file. Two small reads per file (head and tail): about 40k frames/s on a warm
page cache (see ``docs/benchmarks.md``), so datasets run it at load time.

Damage inside the compressed data of an otherwise well-formed file is only
found by decoding; ``check_clip_frames(paths, decode=True)`` decodes every
frame with OpenCV as well (about 100x slower).
"""
import os
import struct
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

__all__ = ['FrameProblem', 'check_clip_frames', 'read_image_size',
           'odd_sizes']

#: bytes read from the start of a file; JPEG EXIF/ICC blocks before the
#: frame header may need more, then the file is read further
_HEAD = 4096
_PNG_SIG = b'\x89PNG\r\n\x1a\n'
_PNG_IEND = b'\x00\x00\x00\x00IEND\xaeB`\x82'
# JPEG start-of-frame markers (C4 DHT, C8 JPG, CC DAC are not frames)
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True)
class FrameProblem:
    """One unusable frame: ``path`` and what is wrong with it."""
    path: str
    reason: str

    def __str__(self) -> str:
        return f'{self.path}: {self.reason}'


class _Bad(Exception):
    pass


def _jpeg_size(f, head: bytes) -> Tuple[int, int]:
    pos, data = 2, head
    while True:
        while len(data) < pos + 9:  # marker (2) + length (2) + SOF fields
            more = f.read(max(_HEAD, pos + 9 - len(data)))
            if not more:
                raise _Bad('truncated JPEG: no frame header')
            data += more
        if data[pos] != 0xFF:
            raise _Bad(f'corrupt JPEG: no marker at byte {pos}')
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _SOF:
            h, w = struct.unpack('>HH', data[pos + 5:pos + 9])
            return h, w
        if marker in (0xD9, 0xDA):
            raise _Bad('corrupt JPEG: no frame header before the image data')
        if 0xD0 <= marker <= 0xD8 or marker == 0x01:  # no length field
            pos += 2
            continue
        pos += 2 + struct.unpack('>H', data[pos + 2:pos + 4])[0]


def _jpeg_complete(tail: bytes) -> bool:
    # end-of-image marker, possibly followed by padding some cameras add
    return tail.rstrip(b'\x00\r\n ').endswith(b'\xff\xd9')


def _read_size(f, size: int) -> Tuple[int, int]:
    """(height, width) of an open image file of ``size`` bytes; raises
    ``_Bad`` naming what is wrong."""
    head = f.read(_HEAD)
    tail_len = min(size, 32)
    if head[:2] == b'\xff\xd8':
        hw = _jpeg_size(f, head)
        f.seek(size - tail_len)
        if not _jpeg_complete(f.read(tail_len)):
            raise _Bad('truncated JPEG: no end-of-image marker (FFD9)')
        return hw
    if head[:8] == _PNG_SIG:
        if len(head) < 24 or head[12:16] != b'IHDR':
            raise _Bad('corrupt PNG: no IHDR header')
        w, h = struct.unpack('>II', head[16:24])
        f.seek(size - min(size, 12))
        if f.read(12) != _PNG_IEND:
            raise _Bad('truncated PNG: no IEND chunk at the end')
        return h, w
    if head[:2] == b'BM':
        if len(head) < 30:
            raise _Bad('truncated BMP: incomplete header')
        offset = struct.unpack('<I', head[10:14])[0]
        w, h = struct.unpack('<ii', head[18:26])
        bits, compression = struct.unpack('<HI', head[28:34])
        h = abs(h)
        if compression == 0:  # BI_RGB: rows of 4-byte multiples
            need = offset + ((w * bits + 31) // 32) * 4 * h
            if size < need:
                raise _Bad(f'truncated BMP: {size} bytes, its header '
                           f'announces {need}')
        return h, w
    raise _Bad(f'not a JPEG, PNG or BMP image (starts with {head[:8]!r})')


def read_image_size(path: str) -> Tuple[int, int]:
    """``(height, width)`` of a JPEG/PNG/BMP from its header.

    Raises:
        ValueError: naming the file: empty, truncated, corrupt or not an
            image.
    """
    try:
        size = os.path.getsize(path)
        if size == 0:
            raise _Bad('empty file (0 bytes)')
        with open(path, 'rb') as f:
            return _read_size(f, size)
    except _Bad as exc:
        raise ValueError(f'{path}: {exc}') from None
    except (OSError, struct.error) as exc:
        raise ValueError(f'{path}: unreadable ({exc})') from None


def _decodes(path: str) -> bool:
    import cv2
    import numpy as np
    data = np.fromfile(path, dtype=np.uint8)
    return data.size > 0 and cv2.imdecode(data, cv2.IMREAD_UNCHANGED) \
        is not None


def check_clip_frames(paths: Sequence[str],
                      decode: bool = False) -> List[FrameProblem]:
    """Problems of the image frames of ONE clip (empty list: all usable).

    Args:
        paths: the clip's frame files (JPEG, PNG or BMP), in any order.
        decode: also decode every frame (finds damage inside the compressed
            data; much slower).

    Returns:
        list[FrameProblem]: one per bad frame, in the order of ``paths``:
        missing, empty, truncated, corrupt, not an image, undecodable, or
        of another size than the clip (the size most of its frames have).
    """
    problems: List[FrameProblem] = []
    sizes: List[Optional[Tuple[int, int]]] = []
    for path in paths:
        hw = None
        try:
            hw = read_image_size(path)
        except ValueError as exc:
            reason = str(exc)[len(path) + 2:]
            if not os.path.exists(path):
                reason = 'file not found'
            problems.append(FrameProblem(path, reason))
        else:
            if decode and not _decodes(path):
                problems.append(FrameProblem(
                    path, 'corrupt image: OpenCV cannot decode it'))
                hw = None
        sizes.append(hw)
    clip_hw, odd = odd_sizes(sizes)
    for k in odd:
        hw = sizes[k]
        problems.append(FrameProblem(
            paths[k], f'frame size {hw[1]}x{hw[0]} (WxH) differs from the '
            f"clip's {clip_hw[1]}x{clip_hw[0]}"))
    if odd:
        order = {p: i for i, p in enumerate(paths)}
        problems.sort(key=lambda p: order[p.path])
    return problems


def odd_sizes(sizes: Sequence[Optional[tuple]]) -> Tuple[Optional[tuple],
                                                          List[int]]:
    """``(clip size, positions of the frames of another size)``.

    The clip's size is the one most of its frames have (ties: the first
    seen); ``None`` entries (unreadable frames) are ignored.
    """
    known = [s for s in sizes if s is not None]
    if not known:
        return None, []
    clip = max(dict.fromkeys(known), key=known.count)
    return clip, [k for k, s in enumerate(sizes)
                  if s is not None and s != clip]
