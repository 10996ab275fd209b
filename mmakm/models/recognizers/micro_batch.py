"""Micro-batched train step: a packed batch in groups of whole clips.

The whole packed batch (``(ΣT, C, H, W)``, ~700 frames of 8 clips at the
paper's sizes) keeps every frame's activations alive until the backward;
on a CPU that costs more than the arithmetic (docs/benchmarks.md). The
micro-batched step runs forward + backward on consecutive groups of whole
clips, at most ``max_frames`` frames each, accumulates the gradients and
takes ONE optimiser step, so only one group's activations live at a time.

Each group's losses are weighted by its share of the batch's loss
reduction, so the accumulated gradient is the whole-batch loss's gradient
except for what train-mode BatchNorm normalises over: each group's frames
instead of the whole batch's (one clip per group = the authors' code,
which trains one clip per forward with gradient accumulation).
"""
from collections import OrderedDict
from contextlib import contextmanager
from itertools import accumulate
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmaction.models.losses import BCELossWithLogits, CrossEntropyLoss

__all__ = ['check_micro_batch_frames', 'check_train_cfg', 'check_cls_loss',
           'plan_micro_batches', 'clip_loss_weights',
           'micro_batched_train_step']

TRAIN_CFG_KEYS = ('micro_batch_frames', )

# cls losses whose batch value is a (class-weighted) mean over clips; the
# GS-MMM losses and top-k accuracies are plain means over clips
_MEAN_OVER_CLIPS = (CrossEntropyLoss, BCELossWithLogits)


def check_micro_batch_frames(value) -> int:
    """``train_cfg.micro_batch_frames`` as an int (None → 0 = off).

    Raises:
        ValueError: anything but None or an int ``>= 0``.
    """
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            'model.train_cfg.micro_batch_frames must be an int >= 0 (0 or '
            'None: the whole batch in one forward; N: groups of whole clips '
            f'of at most N frames, 1: one clip per group), got {value!r}')
    return value


def check_train_cfg(train_cfg) -> int:
    """``micro_batch_frames`` of AKMNet's ``train_cfg`` (unknown keys refused).
    """
    train_cfg = dict(train_cfg or {})
    unknown = sorted(set(train_cfg) - set(TRAIN_CFG_KEYS))
    if unknown:
        raise ValueError(f'model.train_cfg: unknown keys {unknown}; AKMNet '
                         f'reads {list(TRAIN_CFG_KEYS)}')
    return check_micro_batch_frames(train_cfg.get('micro_batch_frames'))


def plan_micro_batches(lengths: Sequence[int],
                       max_frames: int) -> List[Tuple[int, int]]:
    """Consecutive groups of whole clips, at most ``max_frames`` frames each.

    A clip longer than ``max_frames`` is a group of its own, so
    ``max_frames=1`` gives one clip per group.

    Args:
        lengths (Sequence[int]): ``(B,)`` clip lengths in batch order.
        max_frames (int): frame budget of a group, ``>= 1``.

    Returns:
        list[tuple[int, int]]: ``(first, stop)`` clip indices of each group.
    """
    if max_frames < 1:
        raise ValueError(f'max_frames must be >= 1, got {max_frames}')
    groups, first, frames = [], 0, 0
    for i, t in enumerate(lengths):
        if i > first and frames + t > max_frames:
            groups.append((first, i))
            first, frames = i, 0
        frames += t
    if len(lengths):
        groups.append((first, len(lengths)))
    return groups


def check_cls_loss(loss_cls: nn.Module) -> None:
    """Refuse a classification loss whose batch reduction is unknown."""
    if not isinstance(loss_cls, _MEAN_OVER_CLIPS):
        raise ValueError(
            'model.train_cfg.micro_batch_frames weights each group of clips '
            'by its share of the batch loss, known for '
            f'{[c.__name__ for c in _MEAN_OVER_CLIPS]} (means over clips); '
            f'the head has {type(loss_cls).__name__}: set micro_batch_frames'
            '=0.')


def clip_loss_weights(cls_head: nn.Module,
                      data_samples: Sequence) -> torch.Tensor:
    """Weight of each clip in the batch value of ``loss_cls``: ``(B,)``.

    mmaction's ``CrossEntropyLoss(class_weight=w)`` is the weighted mean
    ``Σ_i ω_i l_i / Σ_i ω_i`` with ``ω_i = Σ_c w_c y_ic`` (``y`` the one-hot,
    smoothed or soft label), as ``torch``'s cross-entropy; without class
    weights (and for ``BCELossWithLogits``) every clip weighs 1.
    """
    n = len(data_samples)
    class_weight = getattr(cls_head.loss_cls, 'class_weight', None)
    if not isinstance(cls_head.loss_cls, CrossEntropyLoss) or (
            class_weight is None):
        return torch.ones(n, dtype=torch.float64)
    class_weight = torch.as_tensor(class_weight, dtype=torch.float64).cpu()
    labels = torch.stack([torch.as_tensor(s.gt_label).reshape(-1)
                          for s in data_samples]).cpu()
    if labels.shape[1] == 1:  # class indices
        labels = F.one_hot(labels[:, 0].long(), class_weight.numel())
    labels = labels.to(torch.float64)
    eps = getattr(cls_head, 'label_smooth_eps', 0)
    if eps:  # as BaseHead.loss_by_feat smooths them
        labels = (1 - eps) * labels + eps / class_weight.numel()
    return labels @ class_weight


@contextmanager
def _one_accumulation_step(optim_wrapper):
    """Count the group backwards of one train step as ONE backward.

    ``OptimWrapper.backward`` counts calls for ``accumulative_counts``;
    a micro-batched step calls it once per group.
    """
    count = optim_wrapper._inner_count
    yield
    optim_wrapper._inner_count = count + 1


def micro_batched_train_step(model: nn.Module, data: dict, optim_wrapper,
                             max_frames: int) -> Dict[str, torch.Tensor]:
    """Forward + backward per group of whole clips, then one optimiser step.

    Args:
        model (AKMNet): the recogniser (``data_preprocessor``,
            ``_split_inputs``, ``cls_head``, ``parse_losses``).
        data (dict): the batch as the loader hands it over.
        optim_wrapper (OptimWrapper): any mmengine ``OptimWrapper``
            (``AutocastOptimWrapper`` included); its ``optim_context`` wraps
            every forward, its ``backward`` every group's loss, and
            ``accumulative_counts`` counts train steps, not groups.
        max_frames (int): frame budget of a group (see
            :func:`plan_micro_batches`).

    Returns:
        dict: log variables of the whole batch (``loss``, ``loss_cls``,
        ``loss_gs``, ``loss_mmm``, ``top1_acc`` ...).
    """
    with optim_wrapper.optim_context(model):
        data = model.data_preprocessor(data, True)
    inputs, samples = data['inputs'], data['data_samples']
    _, lengths = model._split_inputs(inputs, samples)
    lengths = lengths.tolist()
    groups = plan_micro_batches(lengths, max_frames)
    starts = [0, *accumulate(lengths)]  # first frame of each clip

    # a key's batch value = Σ_g share_g · (its value on group g): loss_cls
    # by the clips' loss weights, the other keys (means over clips) by clips
    cls_weight = clip_loss_weights(model.cls_head, samples)
    scale = optim_wrapper.scale_loss(1.0)  # 1 / accumulation factor

    batch_values: Dict[str, torch.Tensor] = OrderedDict()
    with _one_accumulation_step(optim_wrapper), model.micro_batch_step():
        for first, stop in groups:
            if inputs.dim() == 5:
                group_inputs = inputs[first:stop]
            else:
                group_inputs = inputs[starts[first]:starts[stop]]
            with optim_wrapper.optim_context(model):
                values = model._run_forward(
                    dict(inputs=group_inputs,
                         data_samples=samples[first:stop]), mode='loss')
            clip_share = (stop - first) / len(lengths)
            cls_share = float(cls_weight[first:stop].sum() / cls_weight.sum())
            weighted = OrderedDict(
                (k, v * (cls_share if k == 'loss_cls' else clip_share))
                for k, v in values.items())
            loss, _ = model.parse_losses(weighted)
            optim_wrapper.backward(loss * scale)
            for k, v in weighted.items():
                v = v.detach()
                batch_values[k] = batch_values[k] + v if (
                    k in batch_values) else v
            # the graph is freed by backward; drop the last references
            # before the next group's forward
            del values, weighted, loss
    if optim_wrapper.should_update():
        optim_wrapper.step()
        optim_wrapper.zero_grad()
    _, log_vars = model.parse_losses(batch_values)
    return log_vars
