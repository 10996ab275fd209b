"""Leave-one-subject-out (LOSO) experiments: fold planning, per-fold config
derivation, parallel resumable fold runs, pooled reporting.

Entry points: ``tools/loso.py`` (one config), ``tools/loso_demo.py`` (the
``make demo`` LOSO demo), ``tools/evidence.py`` (``make evidence``: the
comparison table), ``tools/analysis/loso_report.py`` (report from dirs).
"""
from ..engine.checkpoint import CheckpointError
from .experiment import LosoResult, run_loso
from .plan import (Fold, LosoSetupError, derive_fold_cfg, describe_protocol, leaf_datasets,
                   plan_folds, safe_name, select_subjects)
from .runner import FoldRunner, fold_finished

#: errors of a LOSO experiment's set-up (config, arguments, work dir) that
#: the tools print as one line: raised before any fold runs
SETUP_ERRORS = (LosoSetupError, ValueError, FileNotFoundError,
                CheckpointError)

__all__ = ['run_loso', 'LosoResult', 'Fold', 'LosoSetupError', 'SETUP_ERRORS',
           'derive_fold_cfg',
           'describe_protocol', 'leaf_datasets', 'plan_folds', 'safe_name',
           'select_subjects', 'FoldRunner', 'fold_finished']
