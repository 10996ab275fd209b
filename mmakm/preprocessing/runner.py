"""Preprocess every clip of a dataset into the frame cache, with a report.

Used by ``tools/preprocess.py``. A clip that cannot be preprocessed (no
face in the reference frame, unreadable or missing frames) is recorded by
name with the reason in the per-corpus report; the run goes on with the
other clips. Clips already in the cache are reused (resumable run); a
damaged one is remade, one made from other frames of the corpus (another
copy or release) stops the run.
"""
import copy
import json
import os.path as osp
import time
from collections import OrderedDict, defaultdict
from typing import Dict, List, Optional, Tuple

import numpy as np

from mmakm.engine.fileio import atomic_json_dump
from .cache import (CacheCorruptError, CacheSourceError, CacheStaleError,
                    cached_entry, clip_source, is_cached, read_recipe,
                    write_clip, write_recipe)
from .clip import FACE_DEFAULTS, merged, preprocess_clip, stabilise_options
from .face import FaceLandmarker, NoFaceError
from .magnification import check_magnify_cfg

REPORT_FILE = 'preprocess_report.json'
#: the recipe used when a config has no ``preprocess`` section
DEFAULT_RECIPE = dict(face=dict(), stabilise=None, magnify=None)


def normalise_recipe(recipe: Optional[dict]) -> dict:
    """``face`` / ``stabilise`` / ``magnify`` with defaults filled in."""
    recipe = copy.deepcopy(dict(DEFAULT_RECIPE, **(recipe or {})))
    unknown = set(recipe) - set(DEFAULT_RECIPE)
    if unknown:
        raise ValueError(f'preprocess: unknown section(s) {sorted(unknown)}; '
                       f'expected {sorted(DEFAULT_RECIPE)}')
    for section, options in (('face', lambda c: merged(FACE_DEFAULTS, c)),
                             ('stabilise', stabilise_options)):
        try:
            recipe[section] = options(recipe[section])
        except ValueError as exc:
            raise ValueError(f'preprocess.{section}: {exc}') from exc
    if recipe['magnify']:
        try:
            check_magnify_cfg(recipe['magnify'])
        except ValueError as exc:
            raise ValueError(f'preprocess.magnify: {exc}') from exc
    if recipe['stabilise'] is not None and recipe['face'] is None:
        raise ValueError('preprocess: stabilise needs face alignment')
    return recipe


def recipe_record(recipe: dict, source: Optional[dict] = None) -> dict:
    """What a cache's ``preprocess.json`` records: the normalised recipe and
    the corpus ``source`` (:func:`corpus_source`), as JSON reads it back."""
    record = recipe if source is None else dict(recipe, source=source)
    return json.loads(json.dumps(record, default=list))


def recipe_mismatch(cache_dir: str, record: dict) -> Optional[str]:
    """Why the cache in ``cache_dir`` was not made with ``record``
    (:func:`recipe_record`); None when it was, or holds nothing yet."""
    old = read_recipe(cache_dir)
    if old is None or old == record:
        return None
    return (f'{cache_dir} holds clips made with another recipe:\n  cache: '
            f'{old}\n  config: {record}')


def check_recipe(cache_dir: str, recipe: dict, overwrite: bool,
                 source: Optional[dict] = None) -> None:
    """Refuse to mix recipes in one cache; record the recipe.

    ``source`` (optional) names the corpus the clips come from (e.g. the
    synthetic corpus' generator arguments); it is recorded with the recipe
    and a cache of another source is refused like another recipe.
    """
    record = recipe_record(recipe, source)
    why = recipe_mismatch(cache_dir, record)
    if why and not overwrite:
        raise ValueError(f'{why}\nuse another OUT_DIR or pass --overwrite '
                         'to remake every clip')
    write_recipe(cache_dir, record)


def config_cache_mismatch(cfg) -> List[str]:
    """Why the frame caches a config's datasets read were not made with the
    config's ``preprocess`` recipe (one line per cache); empty when they
    were, when a cache is still empty, or when the config has no recipe."""
    if not cfg.get('preprocess'):
        return []
    from mmakm.loso.plan import dataloader_datasets
    record = recipe_record(normalise_recipe(cfg.get('preprocess')),
                           corpus_source(cfg))
    dirs = {leaf['cache_dir'] for _, leaves in dataloader_datasets(cfg)
            for leaf in leaves if leaf.get('cache_dir')}
    return [why for why in (recipe_mismatch(d, record) for d in sorted(dirs))
            if why]


#: options of a training dataset that do not change which clips exist
_NOT_CLIP_OPTIONS = ('pipeline', 'test_mode', 'subjects', 'exclude_subjects',
                     'cache_dir', 'lazy_init', 'on_bad_sample')


def dataset_cfgs(cfg) -> List[dict]:
    """The distinct datasets of the config's train/test/val loaders, as
    shipped (no cache), all subjects."""
    out, seen = [], set()
    for key in ('train_dataloader', 'test_dataloader', 'val_dataloader'):
        loader = cfg.get(key)
        if not loader or 'dataset' not in loader:
            continue
        ds = copy.deepcopy(loader['dataset'].to_dict() if hasattr(
            loader['dataset'], 'to_dict') else dict(loader['dataset']))
        for k in _NOT_CLIP_OPTIONS:
            ds.pop(k, None)
        sig = json.dumps(ds, sort_keys=True, default=str)
        if sig not in seen:
            seen.add(sig)
            out.append(ds)
    return out


def corpus_source(cfg) -> Optional[dict]:
    """What identifies the corpus of a config beyond its path: the built-in
    synthetic corpus' generator arguments (its files are byte-identical per
    arguments); None for corpora as shipped."""
    spec = cfg.get('synthetic_corpus')
    if not spec:
        return None
    return dict(synthetic_corpus={k: v for k, v in dict(spec).items()
                                  if k != 'root'})


def preprocess_config(cfg, out_dir: str, overwrite: bool = False,
                      log=print) -> Dict[str, dict]:
    """Preprocess every clip of a config's dataset(s) into ``out_dir`` with
    the config's ``preprocess`` recipe (``tools/preprocess.py``); returns
    the per-corpus reports.

    A cache made with another recipe (or from another synthetic corpus,
    :func:`corpus_source`) is refused unless ``overwrite``; clips already
    cached are reused (resumable).
    """
    from mmaction.registry import DATASETS
    from mmakm.engine.user_input import ensure_writable_dir
    recipe = normalise_recipe(cfg.get('preprocess'))
    ensure_writable_dir(out_dir, 'cache folder')
    # the corpora are read before the recipe is recorded: a corpus that
    # cannot be read leaves no recipe that would refuse the next one
    datasets = [
        DATASETS.build(dict(ds_cfg, pipeline=[], on_bad_sample='skip'))
        for ds_cfg in dataset_cfgs(cfg)
    ]
    check_recipe(out_dir, recipe, overwrite, corpus_source(cfg))
    log(f'preprocessing into {out_dir}\nrecipe: {recipe}')
    reports = {}
    for dataset in datasets:
        reports.update(preprocess_dataset(dataset, out_dir, recipe,
                                          overwrite, log=log))
    return reports


def failed_count(reports: Dict[str, dict]) -> int:
    """Clips that failed or were bad samples, over all corpora."""
    return sum(len(r.get('failed', [])) + len(r.get('bad_samples', []))
               for r in reports.values())


def decode_clip(info: dict) -> Tuple[List[np.ndarray], np.ndarray]:
    """(frames, frame numbers): every frame onset..offset of a sample, a
    list of T (H, W, 3) uint8 RGB arrays (not stacked: a clip of 4K frames
    is held once, not twice; :func:`preprocess_clip` takes the list)."""
    from mmakm.datasets.transforms import MEFrameDecode, MESampleFrames
    results = MESampleFrames(test_mode=True)(copy.deepcopy(info))
    results = MEFrameDecode()(results)
    return results['imgs'], results['frame_numbers_fed']


def preprocess_dataset(dataset, cache_dir: str, recipe: dict,
                       overwrite: bool = False,
                       landmarker: Optional[FaceLandmarker] = None,
                       log=print) -> Dict[str, dict]:
    """Cache every sample of ``dataset`` (built on the shipped frames);
    returns and writes one report per corpus.

    The dataset's own bad samples (``on_bad_sample='skip'``) and excluded
    samples are listed in the reports too.
    """
    recipe = normalise_recipe(recipe)
    # as each clip's index records it: a clip of another recipe (left by an
    # interrupted --overwrite run) is remade, not reused
    recorded = recipe_record(recipe)
    if recipe['face'] is not None and recipe['face']['detector'] == 'landmarks':
        landmarker = landmarker or FaceLandmarker(
            recipe['face']['min_confidence'])
    reports = defaultdict(lambda: OrderedDict(
        done=[], reused=[], failed=[], seconds=0.0))
    n = len(dataset)
    for i in range(n):
        info = dataset.get_data_info(i)
        key, corpus = info['cache_key'], info['corpus']
        rep = reports[corpus]
        name = dict(key=key, clip_id=info['clip_id'], subject=info['subject'])
        source = clip_source(info)
        if is_cached(cache_dir, key) and not overwrite:
            try:
                entry = cached_entry(cache_dir, key, source, recorded)
            except CacheSourceError as exc:  # another corpus: never mixed
                raise ValueError(f'{cache_dir} holds clips of another copy '
                                 f'or release of the corpus: {exc}') from exc
            except (CacheCorruptError, CacheStaleError) as exc:
                log(f'[{i + 1}/{n}] {key}: remade ({exc})')
            else:
                rep['reused'].append(dict(name, **_motion(entry)))
                continue
        start = time.perf_counter()
        try:
            frames, numbers = decode_clip(info)
            out, meta = preprocess_clip(frames, recipe['face'],
                                        recipe['stabilise'],
                                        recipe['magnify'], landmarker,
                                        fps=info.get('fps') or None,
                                        frame_numbers=numbers)
        except (NoFaceError, OSError, ValueError, KeyError) as exc:
            rep['failed'].append(dict(name, reason=f'{type(exc).__name__}: '
                                      f'{exc}'))
            log(f'[{i + 1}/{n}] {key}: FAILED ({exc})')
            continue
        write_clip(cache_dir, key, out, numbers,
                   dict(meta, recipe=recipe, source=source))
        took = time.perf_counter() - start
        rep['seconds'] += took
        rep['done'].append(dict(name, frames=len(out), **_motion(meta)))
        log(f'[{i + 1}/{n}] {key}: {len(out)} frames {out.shape[1]}x'
            f'{out.shape[2]} ({meta["method"]}, {took:.2f} s)')
    for corpus, rep in reports.items():
        rep['bad_samples'] = [s['reason'] for s in dataset.skipped]
        rep['excluded'] = list(dataset.excluded)
        rep['recipe'] = recipe
        rep['summary'] = summarise(rep)
        atomic_json_dump(rep, osp.join(cache_dir, corpus, REPORT_FILE))
    if not reports and dataset.skipped:  # every sample was bad
        rep = dict(failed=[], bad_samples=[s['reason']
                                           for s in dataset.skipped])
        reports[dataset.metainfo.get('corpus', 'me')] = rep
    return dict(reports)


def _motion(meta: dict) -> dict:
    out = {}
    if 'motion_px' in meta:
        out['motion_px'] = meta['motion_px']['mean']
    if 'residual_motion_px' in meta:
        out['residual_motion_px'] = meta['residual_motion_px']['mean']
    return out


def summarise(rep: dict) -> dict:
    """Counts and mean rigid motion (px) of a corpus report."""
    clips = rep['done'] + rep['reused']
    out = dict(done=len(rep['done']), reused=len(rep['reused']),
               failed=len(rep['failed']),
               bad_samples=len(rep.get('bad_samples', [])),
               excluded=len(rep.get('excluded', [])),
               seconds=round(rep['seconds'], 2))
    for k in ('motion_px', 'residual_motion_px'):
        vals = [c[k] for c in clips if k in c]
        if vals:
            out[f'mean_{k}'] = float(np.mean(vals))
    return out


def format_summary(reports: Dict[str, dict]) -> List[str]:
    """One printed line per corpus, then one per failed clip."""
    lines = []
    for corpus, rep in reports.items():
        s = rep.get('summary') or dict(failed=0, bad_samples=len(
            rep.get('bad_samples', [])))
        motion = ''.join(f', {k[5:]} {v:.2f} px' for k, v in s.items()
                         if k.startswith('mean_'))
        lines.append(f'{corpus}: {s.get("done", 0)} preprocessed, '
                     f'{s.get("reused", 0)} reused, {s["failed"]} failed, '
                     f'{s["bad_samples"]} bad samples, '
                     f'{s.get("excluded", 0)} excluded{motion}')
        for f in rep.get('failed', []):
            lines.append(f"  FAILED {f['key']}: {f['reason']}")
        for r in rep.get('bad_samples', []):
            lines.append(f'  BAD {r}')
    return lines
