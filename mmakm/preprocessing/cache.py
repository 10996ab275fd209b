"""The preprocessed frame cache: one memory-mappable ``.npy`` per clip.

Layout under a cache folder::

    <cache_dir>/preprocess.json              the recipe (face/stabilise/magnify)
    <cache_dir>/<key>.npy                    uint8 (T, S, S, 3) RGB
    <cache_dir>/<key>.json                   index: frame_numbers (T,), shape, ...
    <cache_dir>/<corpus>/preprocess_report.json

``key`` is ``<corpus>/<subject>/<clip_id>`` (``casme2/sub01/EP02_01f``;
SMIC adds its subset), so one cache serves a corpus and the MEGC2019
composite built from it. Row ``i`` of the array is the frame numbered
``frame_numbers[i]`` in the corpus, so onset/apex/offset keep mapping to
the right frames. Both files are written atomically (temp + rename), the
index last: a clip is cached iff its index exists, which makes an
interrupted run resumable.
"""
import io
import json
import os.path as osp
from typing import Optional, Tuple

import numpy as np

from mmakm.engine.fileio import atomic_json_dump, atomic_write_bytes

RECIPE_FILE = 'preprocess.json'
FORMAT_VERSION = 1


class CacheMissError(FileNotFoundError):
    """A clip the dataset needs is not in the cache (or not all frames)."""


def preprocess_command(cache_dir: str, config: str = 'CONFIG') -> str:
    """The command that fills ``cache_dir`` (for error messages)."""
    return f'python tools/preprocess.py {config} {cache_dir}'


def clip_files(cache_dir: str, key: str) -> Tuple[str, str]:
    """(array path, index path) of a clip."""
    base = osp.join(cache_dir, *key.split('/'))
    return base + '.npy', base + '.json'


def is_cached(cache_dir: str, key: str) -> bool:
    npy, index = clip_files(cache_dir, key)
    return osp.isfile(index) and osp.isfile(npy)


def write_clip(cache_dir: str, key: str, frames: np.ndarray,
               frame_numbers: np.ndarray, info: Optional[dict] = None) -> str:
    """Write one clip (array, then index, each atomically); returns the
    array path.

    Args:
        frames (np.ndarray): (T, S, S, 3) uint8 RGB.
        frame_numbers (np.ndarray): (T,) corpus frame number of each row.
        info (dict, optional): extra index entries (alignment, motion, ...).
    """
    frames = np.ascontiguousarray(frames)
    numbers = np.asarray(frame_numbers, dtype=np.int64)
    if frames.dtype != np.uint8 or frames.ndim != 4 or len(frames) != len(
            numbers):
        raise ValueError(f'{key}: expected uint8 (T, S, S, C) frames and T '
                         f'frame numbers, got {frames.dtype} {frames.shape} '
                         f'and {numbers.shape}')
    npy, index = clip_files(cache_dir, key)
    with io.BytesIO() as buf:
        np.save(buf, frames, allow_pickle=False)
        atomic_write_bytes(buf.getvalue(), npy)
    atomic_json_dump(dict(info or {}, key=key, version=FORMAT_VERSION,
                          shape=list(frames.shape),
                          frame_numbers=numbers.tolist()), index)
    return npy


def read_index(cache_dir: str, key: str) -> dict:
    """The index of a cached clip; CacheMissError when absent."""
    npy, index = clip_files(cache_dir, key)
    if not (osp.isfile(index) and osp.isfile(npy)):
        raise CacheMissError(f'clip {key} is not in the cache: {npy} '
                             'not found')
    with open(index) as f:
        return json.load(f)


def lookup(cache_dir: str, key: str,
           frame_numbers: np.ndarray) -> Tuple[str, np.ndarray]:
    """(array path, rows (N,) int64) holding ``frame_numbers`` (N,).

    CacheMissError naming the file when the clip or any frame is missing.
    """
    entry = read_index(cache_dir, key)
    cached = np.asarray(entry['frame_numbers'], dtype=np.int64)
    wanted = np.asarray(frame_numbers, dtype=np.int64)
    # cached numbers are increasing (onset..offset)
    rows = np.clip(np.searchsorted(cached, wanted), 0, max(len(cached) - 1, 0))
    ok = (cached[rows] == wanted) if len(cached) else np.zeros(len(wanted),
                                                                bool)
    npy = clip_files(cache_dir, key)[0]
    if not ok.all():
        first = int(wanted[~ok][0])
        have = (f'{cached[0]}..{cached[-1]}' if len(cached) else 'none')
        raise CacheMissError(
            f'{npy}: cached frames {have} lack frame {first} '
            f'(needs {wanted[0]}..{wanted[-1]}); the cache was made for '
            'another annotation: preprocess again')
    return npy, rows.astype(np.int64)


def load_frames(path: str, rows: np.ndarray) -> np.ndarray:
    """(N, S, S, C) uint8 rows ``rows`` of a cached clip, read through a
    memory map (only those rows are read)."""
    clip = np.load(path, mmap_mode='r')
    return np.ascontiguousarray(clip[np.asarray(rows, dtype=np.int64)])


def read_recipe(cache_dir: str) -> Optional[dict]:
    path = osp.join(cache_dir, RECIPE_FILE)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def write_recipe(cache_dir: str, recipe: dict) -> None:
    atomic_json_dump(recipe, osp.join(cache_dir, RECIPE_FILE))
