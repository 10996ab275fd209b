"""``run_loso``: plan, run and report a whole LOSO experiment."""
import os.path as osp
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from mmakm.engine import (atomic_json_dump, atomic_write_text,
                          ensure_synthetic_corpus)
from .plan import (Fold, derive_fold_cfg, describe_protocol, load_config,
                   plan_folds, select_subjects)
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
    for f in folds:
        text = derive_fold_cfg(cfg, f.subject, f.work_dir).pretty_text
        if osp.isfile(f.config_path):
            with open(f.config_path) as fh:
                if fh.read() != text:
                    changed.append(f.config_path)
            continue
        atomic_write_text(text, f.config_path)
    if changed:
        raise RuntimeError(
            'the experiment config (or --cfg-options) changed since these '
            'folds were started: ' + ', '.join(changed) + '. Use a new '
            '--work-dir, or delete those fold dirs to rerun them.')


def run_loso(config: str, work_dir: str,
             folds: Optional[Sequence[str]] = None, jobs: int = 1,
             seed: Optional[int] = None, cfg_options: Optional[dict] = None,
             report_only: bool = False,
             log: Callable[[str], None] = print) -> LosoResult:
    """Run (or resume) every fold of ``config`` and write the pooled report.

    Args:
        config: experiment config; one fold per subject of its test data.
        work_dir: experiment dir; fold ``s`` lives in ``fold_<s>``.
        folds: subset of subjects (ids, file-safe names or bare ids).
        jobs: folds trained in parallel.
        seed: ``--seed`` for ``tools/train.py`` (config's otherwise).
        cfg_options: overrides merged into the config of every fold.
        report_only: run nothing, report the finished folds.
    Returns:
        LosoResult; ``report`` is None unless every chosen fold finished
        (or ``report_only`` and at least one did).
    """
    from .report import build_report  # matplotlib only when reporting
    work_dir = osp.abspath(work_dir)
    cfg = load_config(config, cfg_options)
    ensure_synthetic_corpus(cfg)
    all_subjects, classes = describe_protocol(cfg)
    plan = plan_folds(work_dir, select_subjects(all_subjects, folds))
    result = LosoResult(work_dir, plan)
    with WorkDirLock(work_dir):
        atomic_json_dump(
            dict(config=osp.abspath(config), cfg_options=cfg_options or {},
                 seed=seed, subjects=all_subjects, classes=list(classes),
                 folds=[dict(subject=f.subject, work_dir=f.work_dir)
                        for f in plan]),
            osp.join(work_dir, 'loso_plan.json'))
        if report_only:
            result.status = {f.subject: 'skipped' if fold_finished(f)
                             else 'missing' for f in plan}
        else:
            # finished folds too: their predictions came from that config
            write_fold_configs(cfg, plan)
            runner = FoldRunner(jobs=jobs, seed=seed, log=log)
            if threading.current_thread() is threading.main_thread():
                install_signal_handlers(runner)
            result.status = runner.run(plan)
            result.timing = runner.timing
            if runner.timing['folds']:
                atomic_json_dump(runner.timing,
                                 osp.join(work_dir, 'loso_timing.json'))
        finished = [f for f in plan if fold_finished(f)]
        if finished and (report_only or len(finished) == len(plan)):
            result.report = build_report(
                work_dir, finished, classes, config=config,
                missing=[f.subject for f in plan if f not in finished])
            log(f'[loso] pooled report of {len(finished)} fold(s) in '
                f'{work_dir}')
    return result
