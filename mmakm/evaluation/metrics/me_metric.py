"""Registered metrics: MEMetric (acc / UF1 / UAR ...) and KeyFrameApexMetric.

Both read the per-sample prediction dicts described in architecture.md
(``pred_score``, ``gt_label``, ``subject``, ``corpus`` and optionally
``key_frames``, ``frame_weights``, ``apex``, ``frame_numbers_fed``, ``fps``)
and compute with :mod:`mmakm.evaluation.functional`, the same code the LOSO
tool uses to pool saved predictions.
"""
from typing import List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmaction.registry import METRICS

from ..functional import keyframe_apex_stats, normalize_sample, pooled_report

_KEEP = ('pred_score', 'pred_label', 'gt_label', 'subject', 'corpus',
         'clip_id', 'emotion', 'apex', 'fps', 'key_frames', 'frame_weights',
         'frame_numbers_fed')


def _record(sample: dict) -> dict:
    return normalize_sample({k: sample[k] for k in _KEEP if k in sample})


class WholeTestSetMixin:
    """A metric computed on every sample of the dataset or not at all.

    mmengine hands a metric the results it collected, cut to the dataset's
    length, and never checks that there are that many: a test dataloader
    with ``drop_last=True`` (or a sampler that leaves samples out) would be
    scored on part of the test set as if it were all of it. Mix in before
    :class:`~mmengine.evaluator.BaseMetric`; ``compute_metrics`` calls
    :meth:`check_whole_test_set` first.
    """
    _test_set_size: Optional[int] = None

    def evaluate(self, size: int) -> dict:
        self._test_set_size = size
        return super().evaluate(size)

    def check_whole_test_set(self, results: list) -> None:
        """Raises :class:`~mmakm.engine.ConfigMismatchError` (a ValueError;
        the tools print it as one line) when ``results`` are fewer than the
        samples of the dataset being evaluated."""
        from mmakm.engine.consistency import ConfigMismatchError
        size = self._test_set_size
        if size is not None and len(results) != size:
            raise ConfigMismatchError(
                f'{type(self).__name__}: {len(results)} predictions for the '
                f'{size} samples of the test set; expected one per sample '
                '(a test dataloader with drop_last=True, or a sampler that '
                'leaves samples out?)')


@METRICS.register_module()
class MEMetric(WholeTestSetMixin, BaseMetric):
    """Micro-expression recognition metric.

    Keys (no prefix by default): ``acc``, ``UF1``, ``UAR``, ``num_samples``,
    ``precision/<class>``, ``recall/<class>``, ``f1/<class>``,
    ``support/<class>``, ``confusion_matrix`` (nested list, rows = ground
    truth) with ``classes`` (its row / column names, in order; both
    omitted with ``confusion_matrix=False``), and per source corpus
    ``<corpus>/acc``, ``<corpus>/UF1``, ``<corpus>/UAR`` when the samples
    come from several corpora (or ``per_corpus=True``). Definitions (pooled;
    UF1 and UAR average over the classes present in the ground truth) in
    :mod:`mmakm.evaluation.functional`.

    Args:
        classes (list[str], optional): class names; default: the dataset's
            ``metainfo['classes']`` (given both, they must be the same, in
            the same order).
        per_corpus (bool, optional): force/suppress per-corpus keys.
        confusion_matrix (bool): include the confusion matrix.
    """
    default_prefix: Optional[str] = None

    def __init__(self, classes: Optional[Sequence[str]] = None,
                 per_corpus: Optional[bool] = None,
                 confusion_matrix: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.classes = None if classes is None else tuple(classes)
        self.per_corpus = per_corpus
        self.with_confusion = confusion_matrix

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if not isinstance(sample, dict):
                sample = sample.to_dict()
            self.results.append(_record(sample))

    def _classes(self, results) -> List[str]:
        meta = self.dataset_meta or {}
        if self.classes is not None:
            # label i is the dataset's classes[i]: other names, or the same
            # in another order, would name the rows of another class
            if meta.get('classes') and tuple(meta['classes']) != self.classes:
                raise ValueError(
                    f'MEMetric: classes={list(self.classes)} differ from the '
                    f"dataset's class setup {list(meta['classes'])} (label i "
                    "is the dataset's classes[i]); leave classes unset or "
                    'give them in that order')
            return list(self.classes)
        if meta.get('classes'):
            return list(meta['classes'])
        n = max(len(r['pred_score']) for r in results if 'pred_score' in r)
        return [f'class{i}' for i in range(n)]

    def compute_metrics(self, results: list) -> dict:
        self.check_whole_test_set(results)
        classes = self._classes(results)
        out = pooled_report(results, classes, per_corpus=self.per_corpus,
                            source=type(self).__name__)
        if self.with_confusion:  # its rows / columns, named in order
            out['classes'] = list(classes)
        else:
            out.pop('confusion_matrix')
        return out


@METRICS.register_module()
class KeyFrameApexMetric(WholeTestSetMixin, BaseMetric):
    """Key frames vs annotated apex (prefix ``keyframe`` by default).

    Keys: ``num_clips``, ``num_excluded_no_apex``,
    ``num_excluded_no_keyframes``, ``apex_in_key``, ``apex_is_max_beta``,
    ``dist_frames_mean|median|p90``, ``num_clips_ms``,
    ``dist_ms_mean|median|p90``, ``key_ratio_mean`` (see
    :func:`keyframe_apex_stats`). Samples without a known apex or without
    ``key_frames``/``frame_weights`` are left out and counted.
    """
    default_prefix: Optional[str] = 'keyframe'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if not isinstance(sample, dict):
                sample = sample.to_dict()
            self.results.append(_record(sample))

    def compute_metrics(self, results: list) -> dict:
        self.check_whole_test_set(results)
        stats = keyframe_apex_stats(results)
        for key in ('dist_frames', 'dist_ms', 'fps'):  # lists / not a score
            stats.pop(key)
        return stats
