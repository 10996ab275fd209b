"""A suite of LOSO experiments: several methods, several seeds, one table.

Each (method, seed) is one :func:`run_loso` in ``<work_dir>/<method>/seed<k>``
(resumable: a rerun reuses finished folds). The wall time spent on a run is
accumulated over invocations in ``<run dir>/wall_time.json``, so a resumed
suite still reports what each method cost. ``tools/loso_demo.py`` (``make
demo``) and ``tools/evidence.py`` (``make evidence``) are suites.
"""
import json
import math
import os.path as osp
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmakm.engine import atomic_json_dump
from .experiment import run_loso
from .report import LosoReport, load_predictions, md_table

WALL_TIME_FILE = 'wall_time.json'
#: preprocessing wall time of a frame cache, accumulated over invocations
CACHE_TIME_FILE = 'build_time.json'


@dataclass(frozen=True)
class Method:
    """One row of a suite: a config run under LOSO with each seed."""
    name: str
    config: str                        # relative to the repository root
    seeds: Tuple[int, ...] = (0, )
    cfg_options: Optional[dict] = None
    note: str = ''                     # what the row is, for the tables

    @property
    def slug(self) -> str:
        return ''.join(c if c.isalnum() else '_' for c in self.name.lower())


@dataclass
class RunResult:
    method: Method
    seed: int
    work_dir: str
    report: Optional[LosoReport]
    wall_s: float
    failed: List[str] = field(default_factory=list)


def run_dir(work_dir: str, method: Method, seed: int) -> str:
    return osp.join(work_dir, method.slug, f'seed{seed}')


def _add_wall_time(path: str, seconds: float, complete: bool) -> float:
    total = 0.0
    if osp.isfile(path):
        with open(path) as f:
            total = float(json.load(f).get('wall_s', 0.0))
    total += seconds
    atomic_json_dump(dict(wall_s=total, complete=complete), path)
    return total


def schedule(methods: Sequence[Method],
             seeds: Optional[Sequence[int]] = None
             ) -> List[Tuple[Method, int]]:
    """The (method, seed) runs in the order they run: seed-major over the
    methods with several seeds (first seed of each, then the second, ...),
    then the single-seed methods, each group in the given order. A suite cut
    short thus has comparable seeds of its main rows first."""
    def seeds_of(m):
        return tuple(seeds) if seeds is not None else m.seeds
    multi = [m for m in methods if len(seeds_of(m)) > 1]
    runs = [(m, seeds_of(m)[i])
            for i in range(max((len(seeds_of(m)) for m in multi), default=0))
            for m in multi if i < len(seeds_of(m))]
    return runs + [(m, s) for m in methods if len(seeds_of(m)) <= 1
                   for s in seeds_of(m)]


def run_suite(methods: Sequence[Method], work_dir: str, root: str,
              jobs: int = 2, seeds: Optional[Sequence[int]] = None,
              report_only: bool = False,
              log: Callable[[str], None] = print) -> List[RunResult]:
    """Run (or resume) every (method, seed) of ``methods``, in the order of
    :func:`schedule`.

    Args:
        methods: the rows; ``Method.seeds`` unless ``seeds`` overrides them.
        work_dir: suite dir; a run lives in ``<work_dir>/<slug>/seed<k>``.
        root: repository root the configs are relative to.
        jobs: LOSO folds in parallel.
        report_only: run nothing, report what finished.
    """
    from mmakm.engine import ensure_writable_dir
    ensure_writable_dir(work_dir)  # before any run books its time there
    results = []
    for m, seed in schedule(methods, seeds):
        d = run_dir(work_dir, m, seed)
        log(f'\n=== {m.name} seed {seed}: LOSO of {m.config} ===')
        t0, res = time.time(), None
        try:
            res = run_loso(osp.join(root, m.config), d, jobs=jobs, seed=seed,
                           cfg_options=dict(m.cfg_options or {}) or None,
                           report_only=report_only, log=log)
        finally:  # a killed suite still books the time it spent
            # (only reporting, every fold already finished: nothing booked)
            reused = res is not None and all(
                st == 'skipped' for st in res.status.values())
            spent = 0.0 if report_only or reused else time.time() - t0
            done = res is not None and res.report is not None and \
                not res.failed and res.report.complete
            wall = _add_wall_time(osp.join(d, WALL_TIME_FILE), spent, done)
        log(f'=== {m.name} seed {seed}: {spent:.0f}s now, {wall:.0f}s '
            'in all ===')
        results.append(RunResult(m, seed, d, res.report, wall, res.failed))
    return results


# ------------------------------------------------------------ frame caches
def config_cache_dir(cfg) -> Optional[str]:
    """The frame cache the config's datasets read (absolute), None if they
    read the shipped frames; ValueError if they read different caches."""
    from .plan import dataloader_datasets
    dirs = {osp.abspath(leaf['cache_dir'])
            for _, leaves in dataloader_datasets(cfg) for leaf in leaves
            if leaf.get('cache_dir')}
    if len(dirs) > 1:
        raise ValueError(f'the datasets read several caches {sorted(dirs)}; '
                         'one cache per config')
    return dirs.pop() if dirs else None


def ensure_frame_cache(cfg, build: bool = True,
                       log: Callable[[str], None] = print) -> Optional[dict]:
    """Make (or resume, or reuse) the frame cache a config trains on.

    For configs whose datasets read ``cache_dir`` and that carry the
    ``preprocess`` recipe making it: every clip of the config's corpus is
    preprocessed by :func:`mmakm.preprocessing.runner.preprocess_config`
    (the runner of ``tools/preprocess.py``). A finished cache is reused
    (nothing is decoded), an interrupted one resumed, a cache made with
    another recipe or from another synthetic corpus refused (ValueError).
    A clip that fails raises (the runs would otherwise miss it). The wall
    time spent is accumulated in ``<cache_dir>/build_time.json``.

    Args:
        cfg: experiment config (the synthetic corpus is generated first
            when the config uses it).
        build: False: only report the cache's state (``--report-only``).

    Returns:
        dict(cache_dir, recipe, clips, wall_s, complete), or None when the
        config reads no cache or has no ``preprocess`` recipe.
    """
    from mmengine.registry import init_default_scope
    from mmakm.engine import ensure_synthetic_corpus
    from mmakm.preprocessing.cache import read_recipe
    from mmakm.preprocessing.runner import (failed_count, format_summary,
                                            normalise_recipe,
                                            preprocess_config)
    cache_dir = config_cache_dir(cfg)
    if cache_dir is None or not cfg.get('preprocess'):
        return None
    recipe = normalise_recipe(cfg.preprocess.to_dict())
    time_file = osp.join(cache_dir, CACHE_TIME_FILE)
    if build:
        ensure_synthetic_corpus(cfg)
        init_default_scope(cfg.get('default_scope', 'mmaction'))
        t0 = time.time()
        reports = preprocess_config(cfg, cache_dir, log=lambda msg: None)
        done = sum(len(r.get('done', [])) for r in reports.values())
        for line in format_summary(reports):
            log(f'[cache] {line}')
        if failed_count(reports):
            raise RuntimeError(f'{cache_dir}: {failed_count(reports)} clips '
                               'failed to preprocess (listed above)')
        if done or osp.isfile(time_file):  # else made by hand: time unknown
            _add_wall_time(time_file, time.time() - t0 if done else 0.0,
                           True)
    elif read_recipe(cache_dir) is None:
        return dict(cache_dir=cache_dir, recipe=recipe, clips=0,
                    wall_s=float('nan'), complete=False)
    stamp = dict(wall_s=float('nan'), complete=False)
    if osp.isfile(time_file):  # absent: made by hand (tools/preprocess.py)
        with open(time_file) as f:
            stamp = json.load(f)
    clips = sum(1 for _ in _cached_indices(cache_dir))
    return dict(cache_dir=cache_dir, recipe=recipe, clips=clips,
                wall_s=float(stamp['wall_s']),
                complete=bool(stamp.get('complete')))


def _cached_indices(cache_dir: str):
    import glob
    for path in glob.iglob(osp.join(cache_dir, '**', '*.json'),
                           recursive=True):
        name = osp.basename(path)
        if not name.startswith('.') and name not in (
                CACHE_TIME_FILE, 'preprocess.json',
                'preprocess_report.json'):
            yield path


def prepare_caches(methods: Sequence[Method], root: str, build: bool = True,
                   log: Callable[[str], None] = print) -> List[dict]:
    """:func:`ensure_frame_cache` for every cache the methods read, before
    any run; one record per cache (with the methods reading it)."""
    from .plan import load_config
    records: Dict[str, dict] = {}
    for m in methods:
        cfg = load_config(osp.join(root, m.config),
                          dict(m.cfg_options or {}) or None)
        cache_dir = config_cache_dir(cfg)
        if cache_dir is None:
            continue
        if cache_dir in records:
            records[cache_dir]['methods'].append(m.name)
            continue
        log(f'\n=== frame cache {cache_dir} (for {m.name}) ===')
        t0 = time.time()
        rec = ensure_frame_cache(cfg, build=build, log=log)
        if rec is not None:
            log(f'=== frame cache: {rec["clips"]} clips, '
                f'{time.time() - t0:.0f}s now, {rec["wall_s"]:.0f}s in all '
                '===')
            records[cache_dir] = dict(rec, methods=[m.name])
    return list(records.values())


def cache_table(records: Sequence[dict], root: str = '') -> str:
    """Markdown: each frame cache, its recipe, clips and build time."""
    def recipe(r):
        rec = r['recipe']
        parts = []
        if rec.get('face'):
            parts.append(f"face {rec['face']['detector']} "
                         f"{rec['face']['size']} px")
        if rec.get('stabilise'):
            parts.append(f"stabilise {rec['stabilise']['type']}")
        if rec.get('magnify'):
            parts.append(f"magnify {rec['magnify']['type']} "
                         f"α={rec['magnify']['alpha']:g}")
        return ', '.join(parts) or 'as shipped'
    return md_table(
        ['frame cache', 'recipe', 'clips', 'preprocessing wall time (s)',
         'read by'],
        [[f"`{osp.relpath(r['cache_dir'], root) if root else r['cache_dir']}`",
          recipe(r), r['clips'],
          'n/a' if math.isnan(r['wall_s']) else f"{r['wall_s']:.0f}",
          ', '.join(r['methods'])] for r in records])


def report_failures(results: Sequence[RunResult]) -> int:
    """Print the failed folds of a suite to stderr; the exit status."""
    import sys
    failed = [f'{r.method.name}/seed{r.seed}:{s}' for r in results
              for s in r.failed]
    if failed:
        print(f'failed folds: {failed}', file=sys.stderr)
    return 1 if failed else 0


# ------------------------------------------------------------- aggregation
def random_reference(samples: Sequence[dict]) -> Dict[str, float]:
    """What a random selection of the same size would give, per clip.

    A uniformly random subset of N of the T fed frames holds one of the m
    fed frames that count as the apex (the nearest to it: m = 2 when it lies
    midway between two, as :func:`keyframe_apex_stats` counts) with
    probability 1 − C(T − m, N) / C(T, N) (N / T for m = 1), so the expected
    "apex in key frames" of such a selection is the mean of that over clips.
    A uniformly random fed frame lies E|apex - u| frames from the apex;
    ``dist_frames_median`` is the median of that expectation over clips
    (the reference for "|apex - max-β key frame|").
    """
    hit, dist = [], []
    for s in samples:
        if s.get('apex', -1) is None or s.get('apex', -1) < 0 or \
                s.get('key_frames') is None or \
                s.get('frame_numbers_fed') is None:
            continue
        numbers = np.asarray(s['frame_numbers_fed'], np.int64).reshape(-1)
        if not numbers.size:
            continue
        gap = np.abs(numbers - s['apex'])
        total, chosen = numbers.size, len(s['key_frames'])
        apex_frames = int((gap == gap.min()).sum())
        hit.append(1 - math.comb(total - apex_frames, chosen) /
                   math.comb(total, chosen))
        dist.append(float(gap.mean()))
    nan = float('nan')
    return dict(apex_in_key=float(np.mean(hit)) if hit else nan,
                dist_frames_median=float(np.median(dist)) if dist else nan)


def run_samples(result: RunResult) -> List[dict]:
    """The pooled predictions of a finished run."""
    samples = []
    for fold in result.report.per_fold if result.report else []:
        path = osp.join(result.work_dir, fold['fold'], 'predictions.pkl')
        samples += load_predictions(path)
    return samples


METRICS = ('acc', 'UF1', 'UAR')
KEYFRAME_STATS = ('apex_in_key', 'key_ratio_mean', 'dist_frames_median',
                  'dist_ms_median')


def _mean_std(values: Sequence[float]) -> Tuple[float, float]:
    v = [x for x in values if x is not None and not math.isnan(x)]
    if not v:
        return float('nan'), float('nan')
    return float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0


NUISANCE_STATS = ('key_in_movement', 'fed_in_movement', 'key_in_blink',
                  'fed_in_blink', 'key_head_px', 'fed_head_px',
                  'rho_beta_movement', 'rho_beta_blink', 'rho_beta_head')


def aggregate(results: Sequence[RunResult],
              truth: Optional[dict] = None) -> List[dict]:
    """One record per method: mean ± std over its finished seeds (a seed
    whose LOSO lacks folds counts as missing, not as a result).

    ``truth`` (``mmakm.datasets.synthetic.load_truth``) adds, for methods
    with key frames, where they fall: movement, blinks, head motion
    (:func:`mmakm.evaluation.nuisance.keyframe_nuisance_stats`, mean over
    seeds).
    """
    from mmakm.evaluation.nuisance import keyframe_nuisance_stats
    by_method: Dict[str, List[RunResult]] = {}
    for r in results:
        by_method.setdefault(r.method.name, []).append(r)
    records = []
    for name, runs in by_method.items():
        # a run pooled over part of its folds (--report-only before it
        # finished) is not a seed's result: listed as missing
        done = [r for r in runs if r.report is not None and not r.failed
                and r.report.complete]
        rec = dict(method=name, note=runs[0].method.note,
                   config=runs[0].method.config,
                   seeds=[r.seed for r in done],
                   missing_seeds=[r.seed for r in runs if r not in done],
                   wall_s_per_seed=(float(np.mean([r.wall_s for r in done]))
                                    if done else float('nan')),
                   wall_s_total=float(sum(r.wall_s for r in runs)))
        for k in METRICS:
            rec[k], rec[k + '_std'] = _mean_std(
                [r.report.pooled[k] for r in done])
            rec[k + '_per_seed'] = [r.report.pooled[k] for r in done]
        has_kf = bool(done) and all(r.report.keyframes.get('num_clips')
                                    for r in done)
        for k in KEYFRAME_STATS:
            rec[k] = (_mean_std([r.report.keyframes[k] for r in done])[0]
                      if has_kf else float('nan'))
        samples = [run_samples(r) for r in done] if has_kf else []
        refs = [random_reference(x) for x in samples]
        nuis = [keyframe_nuisance_stats(x, truth) for x in samples] \
            if truth else []
        for k in NUISANCE_STATS:
            rec[k] = (_mean_std([x[k] for x in nuis])[0] if nuis
                      else float('nan'))
        for k in ('apex_in_key', 'dist_frames_median'):
            rec[f'random_{k}'] = (_mean_std([x[k] for x in refs])[0]
                                  if refs else float('nan'))
        records.append(rec)
    return records


def pm(mean: float, std: float, n: int) -> str:
    if math.isnan(mean):
        return 'n/a'
    return f'{mean:.3f} ± {std:.3f}' if n > 1 else f'{mean:.3f}'


def suite_tables(records: Sequence[dict]) -> str:
    """Markdown: scores (mean ± std over seeds), key frames vs apex, time."""
    scores = md_table(
        ['method', 'seeds', 'acc', 'UF1', 'UAR', 'UF1 per seed',
         'wall time per seed (s)'],
        [[r['method'], len(r['seeds'])] +
         [pm(r[k], r[k + '_std'], len(r['seeds'])) for k in METRICS] +
         [', '.join(f'{v:.3f}' for v in r['UF1_per_seed']) or 'n/a',
          f"{r['wall_s_per_seed']:.0f}"
          if not math.isnan(r['wall_s_per_seed']) else 'n/a']
         for r in records])
    # rows that select (every frame kept, e.g. 'all frames': nothing to say)
    kf_rows = [r for r in records if r['key_ratio_mean'] < 1]
    keyframes = md_table(
        ['method', 'apex in key frames', 'random selection, same size',
         'share of frames selected', 'median abs(apex − max-β key) (frames)',
         'random frame (frames)', 'median (ms)'],
        [[r['method'], r['apex_in_key'], r['random_apex_in_key'],
          r['key_ratio_mean'], r['dist_frames_median'],
          r['random_dist_frames_median'], r['dist_ms_median']]
         for r in kf_rows]) if kf_rows else 'n/a (no finished mining run)'
    nuis_rows = [r for r in kf_rows if not math.isnan(r['key_in_movement'])]
    nuisance = md_table(
        ['method', 'key frames in movement', 'all fed frames in movement',
         'key frames in blink', 'fed frames in blink',
         'head displacement at key frames (px)', 'at all fed frames (px)',
         'ρ(β, movement)', 'ρ(β, blink)', 'ρ(β, head displacement)'],
        [[r['method']] + [r[k] for k in NUISANCE_STATS] for r in nuis_rows]
    ) if nuis_rows else ''
    rows = md_table(['method', 'what it is', 'config'],
                    [[r['method'], r['note'], f"`{r['config']}`"]
                     for r in records])
    missing = [f"{r['method']} (seeds {r['missing_seeds']})"
               for r in records if r['missing_seeds']]
    out = [rows, '', 'Scores: each seed\'s LOSO figures on the predictions '
           'of all its folds pooled; "±" is the standard deviation over '
           'seeds, never over folds.', '', scores, '', keyframes]
    if nuisance:
        out += ['', nuisance]
    if missing:
        out += ['', '**Not finished:** ' + '; '.join(missing)]
    return '\n'.join(out)


__all__ = ['Method', 'RunResult', 'schedule', 'run_suite', 'report_failures',
           'run_dir', 'aggregate', 'random_reference', 'suite_tables',
           'config_cache_dir', 'ensure_frame_cache', 'prepare_caches',
           'cache_table']
