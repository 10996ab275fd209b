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
interrupted run resumable. The index records the frames the clip was made
from (``source``), so a cache of another copy or release of a corpus is
refused, the recipe it was made with, so a clip left over from an
interrupted ``--overwrite`` run under another recipe is remade (and refused
by a dataset) rather than mixed into the cache, and the array's shape, so a
damaged array is found from its header before training.
"""
import io
import json
import os.path as osp
from typing import Optional, Tuple

import numpy as np

from mmakm.datasets.errors import MissingFileError
from mmakm.engine.fileio import atomic_json_dump, atomic_write_bytes

RECIPE_FILE = 'preprocess.json'
FORMAT_VERSION = 1


class CacheMissError(MissingFileError):
    """A clip the dataset needs is not in the cache (or not all frames).

    A corpus input error (:class:`~mmakm.datasets.errors.MissingFileError`):
    the tools print it as one line."""


class CacheCorruptError(CacheMissError):
    """A cached clip's index or array is damaged (unreadable, truncated, or
    not the shape its index records)."""


class CacheSourceError(CacheMissError):
    """A cached clip was made from other frames (another copy or release of
    the corpus) than the dataset reads."""


class CacheStaleError(CacheMissError):
    """A cached clip was made with another recipe than the one its cache's
    ``preprocess.json`` records (left by an interrupted ``--overwrite``
    run, which records the new recipe before remaking the clips)."""


def clip_source(record: dict) -> Optional[str]:
    """Where a sample's frames come from: its video file or frame folder
    (absolute, symlinks resolved); None if the record names neither.

    Works on dataset records (``filename`` / ``frame_dir`` /
    ``frame_map``) and data infos (``filename`` / ``frame_paths``).
    """
    if record.get('filename'):
        path = record['filename']
    elif record.get('frame_dir'):
        path = record['frame_dir']
    else:
        frames = record.get('frame_paths') or list(
            (record.get('frame_map') or {}).values())
        if not frames:
            return None
        path = osp.dirname(frames[0])
    return osp.realpath(path)


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
    """The index of a cached clip; CacheMissError when absent,
    CacheCorruptError naming the file when it cannot be parsed."""
    npy, index = clip_files(cache_dir, key)
    if not (osp.isfile(index) and osp.isfile(npy)):
        raise CacheMissError(f'clip {key} is not in the cache: {npy} '
                             'not found')
    try:
        with open(index, encoding='utf-8') as f:
            entry = json.load(f)
        entry['frame_numbers'], entry['shape']  # noqa: B018 (must exist)
    except (ValueError, KeyError, TypeError) as exc:
        raise CacheCorruptError(
            f'{index}: corrupt cache index ({type(exc).__name__}: {exc}); '
            'preprocess again (the run remakes it)') from exc
    return entry


def check_array(npy: str, entry: dict) -> None:
    """CacheCorruptError naming ``npy`` unless it is a complete uint8 array
    of the shape its index ``entry`` records (memory-mapped: the header is
    read and the file size checked, no pixel)."""
    try:
        arr = np.load(npy, mmap_mode='r', allow_pickle=False)
        shape, dtype = arr.shape, arr.dtype
        del arr
    except (OSError, ValueError, EOFError) as exc:  # truncated, empty
        raise CacheCorruptError(
            f'{npy}: damaged cached clip ({type(exc).__name__}: {exc}); '
            'preprocess again (the run remakes it)') from exc
    if dtype != np.uint8 or list(shape) != list(entry['shape']):
        raise CacheCorruptError(
            f'{npy}: damaged cached clip: {dtype} {tuple(shape)}, but its '
            f'index records uint8 {tuple(entry["shape"])}; preprocess again '
            '(the run remakes it)')


def cached_entry(cache_dir: str, key: str,
                 source: Optional[str] = None,
                 recipe: Optional[dict] = None) -> dict:
    """The index of a cached clip whose array is complete and, when both
    are known, made from the frames at ``source`` (:func:`clip_source`)
    with ``recipe`` (:func:`cache_recipe`).

    Raises:
        CacheMissError: absent; CacheCorruptError: damaged;
        CacheSourceError: made from other frames; CacheStaleError: made
        with another recipe.
    """
    entry = read_index(cache_dir, key)
    npy = clip_files(cache_dir, key)[0]
    if source is not None and entry.get('source') not in (None, source):
        raise CacheSourceError(
            f'{npy} was made from {entry["source"]}, not from {source} '
            'that this dataset reads (another copy or release of the '
            'corpus): preprocess into another cache, or again with '
            '--overwrite')
    if recipe is not None and entry.get('recipe') not in (None, recipe):
        raise CacheStaleError(
            f'{npy} was made with the recipe {entry["recipe"]}, not with '
            f'{recipe} that {osp.join(cache_dir, RECIPE_FILE)} records (a '
            'preprocessing run with --overwrite was interrupted): '
            'preprocess again (the run remakes it)')
    check_array(npy, entry)
    return entry


def lookup(cache_dir: str, key: str, frame_numbers: np.ndarray,
           source: Optional[str] = None,
           recipe: Optional[dict] = None) -> Tuple[str, np.ndarray]:
    """(array path, rows (N,) int64) holding ``frame_numbers`` (N,).

    CacheMissError (or a subclass, :func:`cached_entry`) naming the file
    when the clip or any frame is missing, the clip is damaged or was made
    from other frames than ``source`` or with another ``recipe``.
    """
    entry = cached_entry(cache_dir, key, source, recipe)
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
    """The recipe a cache was made with; None for a new cache, ValueError
    naming the file when it cannot be parsed."""
    path = osp.join(cache_dir, RECIPE_FILE)
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except ValueError as exc:
        raise ValueError(f'{path}: corrupt cache recipe ({exc}); delete it '
                         'and preprocess with --overwrite, or use another '
                         'OUT_DIR') from exc


def cache_recipe(record: Optional[dict]) -> Optional[dict]:
    """The recipe part of a ``preprocess.json`` record (:func:`read_recipe`),
    as each clip's index records it; None for None."""
    if record is None:
        return None
    return {k: v for k, v in record.items() if k != 'source'}


def write_recipe(cache_dir: str, recipe: dict) -> None:
    atomic_json_dump(recipe, osp.join(cache_dir, RECIPE_FILE))
