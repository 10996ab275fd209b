"""Leave-one-subject-out (LOSO) experiments: fold planning, per-fold config
derivation, parallel resumable fold runs, pooled reporting.

Entry points: ``tools/loso.py`` (one config), ``tools/main_job.py`` (the
``make demo`` job), ``tools/analysis/loso_report.py`` (report from dirs).
"""
from .experiment import LosoResult, run_loso
from .plan import (Fold, LosoSetupError, derive_fold_cfg, describe_protocol, leaf_datasets,
                   plan_folds, safe_name, select_subjects)
from .runner import FoldRunner, fold_finished

__all__ = ['run_loso', 'LosoResult', 'Fold', 'LosoSetupError', 'derive_fold_cfg',
           'describe_protocol', 'leaf_datasets', 'plan_folds', 'safe_name',
           'select_subjects', 'FoldRunner', 'fold_finished']
