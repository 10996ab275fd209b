"""``DeferredRuntimeInfoHook``: the runtime info of mmengine's
``RuntimeInfoHook`` with the losses read back to the host only when the
logger needs them.

mmengine's hook hands every training step's ``log_vars`` (device tensors) to
``MessageHub.update_scalar``, which calls ``.item()`` on each: one host <->
device synchronisation per logged value per step, which stalls the GPU's
queue of kernels every iteration. This hook keeps the step's values on the
device and pushes them into the message hub, all at once (one
``torch.stack(...).tolist()`` per key), right before anything reads them:
at the logger's interval, at the end of an epoch, before a checkpoint (the
message hub is part of it) and at the end of training. The message hub
then holds the same numbers, in the same order, as with ``RuntimeInfoHook``
at every point where they are read, so the logged values are identical.
"""
from collections import defaultdict
from typing import Dict, List, Optional

import torch
from mmengine.hooks import LoggerHook, RuntimeInfoHook

from mmaction.registry import HOOKS


@HOOKS.register_module()
class DeferredRuntimeInfoHook(RuntimeInfoHook):
    """``RuntimeInfoHook`` that defers reading tensor outputs to the host.

    Args:
        interval (int, optional): flush every ``interval`` iterations (of
            the epoch and of the whole run, as ``LoggerHook`` counts). By
            default the interval of the runner's ``LoggerHook`` (1 if it
            has none, which is then no cheaper than ``RuntimeInfoHook``).
    """

    def __init__(self, interval: Optional[int] = None):
        if interval is not None and int(interval) < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.interval = None if interval is None else int(interval)
        self._pending: Dict[str, List[torch.Tensor]] = defaultdict(list)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self.interval is None:
            loggers = [h for h in runner.hooks if isinstance(h, LoggerHook)]
            self.interval = loggers[0].interval if loggers else 1

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if outputs is not None:
            for key, value in outputs.items():
                if isinstance(value, torch.Tensor) and value.numel() == 1:
                    self._pending[f'train/{key}'].append(value.detach())
                else:  # numbers (and anything else) as mmengine does
                    self.flush(runner)
                    runner.message_hub.update_scalar(f'train/{key}', value)
        if (self.every_n_inner_iters(batch_idx, self.interval)
                or self.every_n_train_iters(runner, self.interval)
                or self.end_of_epoch(runner.train_dataloader, batch_idx)):
            self.flush(runner)

    def flush(self, runner) -> None:
        """Push the deferred values into the message hub, in step order."""
        if not self._pending:
            return
        pending, self._pending = self._pending, defaultdict(list)
        for key, values in pending.items():
            if len({v.dtype for v in values}) == 1:
                # one device -> host copy per key for all the deferred steps
                values = torch.stack(values).reshape(-1).tolist()
            for value in values:  # .item() of a tensor gives the same
                runner.message_hub.update_scalar(key, value)

    def after_train_epoch(self, runner) -> None:
        self.flush(runner)
        super().after_train_epoch(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        self.flush(runner)

    def after_train(self, runner) -> None:
        self.flush(runner)
        super().after_train(runner)
