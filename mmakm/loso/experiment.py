"""``run_loso``: plan, run and report a whole LOSO experiment."""
import json
import os.path as osp
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from mmakm.engine import (apply_randomness_args, atomic_json_dump,
                          atomic_write_text, check_clip_batching,
                          check_frame_cache, check_num_classes,
                          check_pretrained_backbone, ensure_writable_dir,
                          ensure_synthetic_corpus)
from .plan import (Fold, LosoSetupError, check_corpora, derive_fold_cfg,
                   leaf_subjects, load_config, plan_folds, protocol_clips,
                   select_subjects)
from .runner import (FoldRunner, WorkDirLock, fold_finished,
                     install_signal_handlers)


@dataclass
class LosoResult:
    work_dir: str
    folds: List[Fold]
    status: Dict[str, str] = field(default_factory=dict)
    report: Optional[object] = None  # mmakm.loso.report.LosoReport
    timing: Optional[dict] = None  # FoldRunner.timing of the folds run

    @property
    def failed(self) -> List[str]:
        return [s for s, st in self.status.items() if st.startswith('failed')]


def write_fold_configs(cfg, folds: Sequence[Fold]) -> None:
    """Write each fold's config; a fold's config never changes once written.

    Resuming a fold, or pooling a finished fold's predictions, under a
    different config would mix two experiments, so a mismatch is an error.
    """
    changed = []
    holders = leaf_subjects(cfg)  # composites: which leaf holds whom
    for f in folds:
        text = derive_fold_cfg(cfg, f.subject, f.work_dir,
                               holders).pretty_text
        if osp.isfile(f.config_path):
            with open(f.config_path) as fh:
                if fh.read() != text:
                    changed.append(f.config_path)
            continue
        atomic_write_text(text, f.config_path)
    if changed:
        raise LosoSetupError(
            'the experiment config (or --cfg-options, --seed, '
            '--deterministic) changed since these folds were started: ' +
            ', '.join(changed) + '. Use a new --work-dir, or delete those '
            'fold dirs to rerun them.')


def check_plan_seed(plan_path: str, seed) -> None:
    """A work dir's folds all use the seed its ``loso_plan.json`` names; a
    run asking for another seed is refused (as a changed config is)."""
    if not osp.isfile(plan_path):
        return
    with open(plan_path) as f:
        old = json.load(f)
    # None: a plan of an older version, whose folds used the config's seed
    # (the fold configs then match only if that is still the seed)
    if old.get('seed') is not None and old['seed'] != seed:
        raise LosoSetupError(
            f'{plan_path}: the folds of this work dir use seed '
            f"{old['seed']}, this run asks for seed {seed}. A report must "
            'not mix seeds: use a new --work-dir for another seed (or the '
            'same --seed to resume).')


def run_loso(config: str, work_dir: str,
             folds: Optional[Sequence[str]] = None, jobs: int = 1,
             seed: Optional[int] = None, cfg_options: Optional[dict] = None,
             report_only: bool = False,
             log: Callable[[str], None] = print,
             deterministic: bool = False,
             threads: Optional[int] = None) -> LosoResult:
    """Run (or resume) every fold of ``config`` and write the pooled report.

    Args:
        config: experiment config; one fold per subject of its test data.
        work_dir: experiment dir; fold ``s`` lives in ``fold_<s>``.
        folds: subset of subjects (ids, file-safe names or bare ids).
        jobs: folds trained in parallel.
        seed: the seed of every fold (config's ``randomness.seed``
            otherwise); written into each fold's config, so a rerun with
            another seed is refused.
        cfg_options: overrides merged into the config of every fold.
        report_only: run nothing, report the finished folds.
        deterministic: ``randomness.deterministic=True`` in every fold.
        threads: torch threads per fold process (default: the user's
            ``OMP_NUM_THREADS``, else 1; see
            :func:`mmakm.loso.runner.fold_threads`).
    Returns:
        LosoResult; ``report`` (None when no chosen fold is finished) pools
        the chosen finished folds and names every other subject of the
        protocol as missing (``report.complete`` is False then).
    """
    from .report import build_report  # matplotlib only when reporting
    work_dir = osp.abspath(work_dir)
    cfg = load_config(config, cfg_options)
    ensure_writable_dir(work_dir)
    # the seed is part of each fold's frozen config (write_fold_configs)
    apply_randomness_args(cfg, seed=seed, deterministic=deterministic)
    seed = cfg.randomness.get('seed')
    ensure_synthetic_corpus(cfg)
    clips, classes = protocol_clips(cfg)
    all_subjects = sorted(clips)
    check_num_classes(cfg)
    check_clip_batching(cfg)
    check_frame_cache(cfg)
    plan = plan_folds(work_dir, select_subjects(all_subjects, folds))
    if not report_only and not all(fold_finished(f) for f in plan):
        check_corpora(cfg)  # one message, not one failure per fold
        check_pretrained_backbone(cfg)
    result = LosoResult(work_dir, plan)
    plan_path = osp.join(work_dir, 'loso_plan.json')
    with WorkDirLock(work_dir):
        check_plan_seed(plan_path, seed)
        if not (report_only and osp.isfile(plan_path)):
            atomic_json_dump(
                dict(config=osp.abspath(config),
                     cfg_options=cfg_options or {}, seed=seed,
                     deterministic=bool(cfg.randomness.get('deterministic')),
                     subjects=all_subjects, classes=list(classes),
                     clips=clips,
                     folds=[dict(subject=f.subject, work_dir=f.work_dir)
                            for f in plan]),
                plan_path)
        if report_only:
            result.status = {f.subject: 'skipped' if fold_finished(f)
                             else 'missing' for f in plan}
        else:
            # finished folds too: their predictions came from that config
            write_fold_configs(cfg, plan)
            runner = FoldRunner(jobs=jobs, threads=threads, log=log)
            if threading.current_thread() is threading.main_thread():
                install_signal_handlers(runner)
            result.status = runner.run(plan)
            result.timing = getattr(runner, 'timing', None)
            if result.timing and result.timing['folds']:
                atomic_json_dump(result.timing,
                                 osp.join(work_dir, 'loso_timing.json'))
        finished = [f for f in plan if fold_finished(f)]
        if finished:
            # missing: every subject of the protocol not pooled (a failed
            # fold, a --folds subset): marked incomplete, never passed off
            # as the LOSO result, and no older report stays behind
            pooled = {f.subject for f in finished}
            result.report = build_report(
                work_dir, finished, classes, config=config,
                missing=[s for s in all_subjects if s not in pooled],
                expected_clips=clips)
            log(f'[loso] pooled report of {len(finished)} fold(s) in '
                f'{work_dir}')
    return result
