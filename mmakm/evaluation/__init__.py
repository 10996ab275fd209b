"""Micro-expression metrics (registered in MMAction2's METRICS)."""
from .functional import (accuracy, confusion_matrix, keyframe_apex_stats,
                         max_beta_key_frame, me_scores, normalize_sample,
                         per_class_stats, pooled_report, uar, uf1)
from .metrics import KeyFrameApexMetric, MEMetric
from .plots import plot_confusion_matrix

__all__ = [
    'MEMetric', 'KeyFrameApexMetric', 'accuracy', 'confusion_matrix',
    'keyframe_apex_stats', 'max_beta_key_frame', 'me_scores', 'normalize_sample',
    'per_class_stats', 'pooled_report', 'uar', 'uf1', 'plot_confusion_matrix'
]
