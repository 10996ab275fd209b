"""``--dump`` prediction pickles written atomically."""
from mmengine.evaluator import DumpResults
from mmengine.fileio import dump
from mmengine.logging import print_log

from mmaction.registry import METRICS
from mmakm.evaluation.metrics.me_metric import WholeTestSetMixin
from .fileio import ATOMIC_BACKEND_ARGS, is_local_path


@METRICS.register_module()
class AtomicDumpResults(WholeTestSetMixin, DumpResults):
    """mmengine's ``DumpResults``, but the pickle is complete or absent,
    and holds every sample of the test set (or is not written:
    :class:`~mmakm.evaluation.metrics.me_metric.WholeTestSetMixin`).

    The pickle holds one dict per test sample (``ActionDataSample.to_dict()``
    on CPU: ``pred_score``, ``gt_label``, and the ``ME_META_KEYS`` metainfo
    such as ``subject``, ``corpus``, ``clip_id``, plus ``key_frames`` and
    ``frame_weights`` for AKMNet), in dataset order.
    """

    def compute_metrics(self, results: list) -> dict:
        self.check_whole_test_set(results)
        backend_args = (
            dict(ATOMIC_BACKEND_ARGS)
            if is_local_path(self.out_file_path) else None)
        dump(results, self.out_file_path, backend_args=backend_args)
        print_log(
            f'Results has been saved to {self.out_file_path}.',
            logger='current')
        return {}
