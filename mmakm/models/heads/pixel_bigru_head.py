"""Pixel-wise bidirectional GRU head of AKMNet (eqs 1-4)."""
from typing import Dict, NamedTuple, Sequence, Tuple, Union

import numpy as np

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import PackedSequence

from mmaction.models.heads.base import BaseHead
from mmaction.registry import MODELS
from mmaction.utils import SampleList


class PackingPlan(NamedTuple):
    """Where every row of the GRU's packed input comes from and goes to.

    Attributes:
        index (np.ndarray): ``(4, R)`` int64; for packed row r: the key
            frame (row of ``(ΣN, hw, C)``) and position it reads, and the
            sequence (``clip·hw + position``) and time step it belongs to.
        batch_sizes (torch.Tensor): ``(max_len,)`` int64 on the CPU,
            sequences still running at each time step (PackedSequence's).
    """

    index: np.ndarray
    batch_sizes: torch.Tensor


def packing_plan(lengths: np.ndarray, positions: int) -> PackingPlan:
    """The PackedSequence layout of ``positions`` sequences per clip.

    Sequence ``s = clip·positions + p`` has its clip's length. As
    ``pack_padded_sequence(..., enforce_sorted=False)`` lays them out:
    time-major, and at each time step the running sequences longest first,
    sorted as it sorts them.

    Args:
        lengths (np.ndarray): ``(B,)`` key frames per clip (each ≥ 1).
        positions (int): spatial positions h·w.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    seq_len = np.repeat(lengths, positions)  # (S,)
    # longest first, in exactly pack_padded_sequence's order (the same
    # sort): ties in another order would sum the GRU's weight gradients
    # over its batch rows in another order, i.e. not bit-identically
    sorted_len, order = (v.numpy() for v in torch.sort(
        torch.from_numpy(seq_len), descending=True))
    batch_sizes = np.bincount(sorted_len - 1)[::-1].cumsum()[::-1]
    offsets = np.cumsum(batch_sizes) - batch_sizes  # first row of step t
    rank = np.repeat(np.arange(order.size), sorted_len)
    step = np.arange(rank.size) - np.repeat(np.cumsum(sorted_len) -
                                            sorted_len, sorted_len)
    row = offsets[step] + rank  # packed row of (sequence rank, step)
    seq = order[rank]
    clip, pos = np.divmod(seq, positions)
    frame = (np.cumsum(lengths) - lengths)[clip] + step
    index = np.empty((4, rank.size), dtype=np.int64)
    index[:, row] = np.stack([frame, pos, seq, step])
    return PackingPlan(index, torch.from_numpy(batch_sizes.copy()))


@MODELS.register_module()
class PixelBiGRUHead(BaseHead):
    """One bidirectional GRU shared by all W×H positions of the key frames.

    For every clip and every spatial position (i, j), the sequence of the
    clip's key-frame feature vectors at (i, j) goes through the same
    ``nn.GRU``; all (clip, position) sequences run in ONE packed GRU call
    (a ``PackedSequence`` gathered straight from the key frames, see
    :func:`packing_plan`, so no step runs on padding). Each position's
    outputs are averaged over its clip's key frames, positions are
    concatenated into G ``(2·hidden, h, w)``, flattened, passed through
    dropout and a linear classifier.

    Args:
        num_classes (int): number of classes.
        in_channels (int): channels of the key-frame features (GRU input
            size), 512 for ResNet-18.
        hidden_channels (int): GRU hidden size per direction. Defaults to 32.
        num_layers (int): GRU layers. Defaults to 2.
        spatial_size (int | tuple[int, int]): (h, w) of the feature maps,
            4 for 128×128 frames through ResNet-18. Defaults to 4.
        dropout_ratio (float): dropout before the classifier. Defaults to 0.5.
        loss_cls (dict): classification loss, e.g.
            ``dict(type='CrossEntropyLoss', class_weight=[...])``.
        topk (int | tuple[int]): top-k accuracies logged. Defaults to (1, ).
        init_std (float): std of the classifier's normal init.
        kwargs: other :class:`BaseHead` arguments.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int = 512,
                 hidden_channels: int = 32,
                 num_layers: int = 2,
                 spatial_size: Union[int, Tuple[int, int]] = 4,
                 dropout_ratio: float = 0.5,
                 loss_cls: Dict = dict(type='CrossEntropyLoss'),
                 topk: Union[int, Tuple[int]] = (1, ),
                 init_std: float = 0.01,
                 **kwargs) -> None:
        super().__init__(num_classes, in_channels, loss_cls=loss_cls,
                         topk=topk, **kwargs)
        if isinstance(spatial_size, int):
            spatial_size = (spatial_size, spatial_size)
        self.spatial_size = tuple(spatial_size)
        self.hidden_channels = hidden_channels
        self.init_std = init_std
        self.gru = nn.GRU(in_channels, hidden_channels, num_layers,
                          batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 \
            else nn.Identity()
        self.fc_cls = nn.Linear(
            2 * hidden_channels * self.spatial_size[0] * self.spatial_size[1],
            num_classes)

    def init_weights(self) -> None:
        """Normal init of the classifier (the GRU keeps PyTorch's init)."""
        nn.init.normal_(self.fc_cls.weight, 0, self.init_std)
        nn.init.constant_(self.fc_cls.bias, 0)

    def forward(self, x: torch.Tensor, key_lengths: Union[torch.Tensor,
                                                           Sequence[int]],
                **kwargs) -> torch.Tensor:
        """Classify clips from their key-frame features.

        Args:
            x (torch.Tensor): ``(ΣN, C, h, w)`` key-frame features, clip after
                clip, frames in temporal order.
            key_lengths (torch.Tensor | Sequence[int]): ``(B,)`` key frames
                per clip (each ≥ 1).

        Returns:
            torch.Tensor: ``(B, num_classes)`` class scores (logits).
        """
        if x.dim() != 4:
            raise ValueError('PixelBiGRUHead expects packed key-frame '
                             f'features (ΣN, C, h, w), got shape {tuple(x.shape)}.')
        built = (self.in_channels, ) + self.spatial_size
        if tuple(x.shape[1:]) != built:
            # the flattened G feeds a linear layer of a fixed size
            fix = (f'model.cls_head.in_channels={x.shape[1]} (and the '
                   "neck's in_channels) to match the backbone"
                   if x.shape[1] != self.in_channels else
                   f'model.cls_head.spatial_size={tuple(x.shape[2:])}, or '
                   'resize/crop the frames to the size the head was built '
                   'for (a ResNet gives ceil(size / 32): 128 px -> 4)')
            raise ValueError(
                f'PixelBiGRUHead was built for features (C, h, w) = {built}, '
                f'the backbone gives {tuple(x.shape[1:])} for these frames: '
                f'set {fix}.')
        key_lengths = torch.as_tensor(key_lengths, dtype=torch.long)
        lengths_cpu = key_lengths.cpu()
        if lengths_cpu.dim() != 1 or bool((lengths_cpu <= 0).any()) or \
                int(lengths_cpu.sum()) != x.shape[0]:
            raise ValueError(f'key_lengths {lengths_cpu.tolist()} must be '
                             f'positive and sum to {x.shape[0]}.')
        num, max_len = lengths_cpu.numel(), int(lengths_cpu.max())
        h, w = self.spatial_size
        hw = h * w

        # every (clip, position) sequence straight into the GRU's packed
        # layout by one gather, and its outputs back by one scatter: no
        # padded input, no per-time-step copies of pack/pad_packed_sequence
        plan = packing_plan(lengths_cpu.numpy(), hw)
        index = torch.from_numpy(plan.index).to(x.device, non_blocking=True)
        seq = x.flatten(2).transpose(1, 2)  # (ΣN, hw, C)
        data = seq[index[0], index[1]]  # (R, C), R = ΣN·hw, packed order
        out = self.gru(PackedSequence(data, plan.batch_sizes))[0].data
        padded = out.new_zeros(num * hw, max_len, out.shape[1])
        padded[index[2], index[3]] = out  # zeros on padding
        seq_lengths = lengths_cpu.repeat_interleave(hw)
        out = padded.sum(1) / seq_lengths.to(
            out.device, out.dtype, non_blocking=True).unsqueeze(1)
        # (B·hw, 2H) -> G (B, 2H, h, w) -> flat
        feat = out.view(num, hw, -1).transpose(1, 2).reshape(num, -1)
        scores = self.fc_cls(self.dropout(feat))
        # fp32 scores under autocast: the loss and accuracy (numpy) of
        # mmaction's head need them, and (B, classes) costs nothing
        if scores.dtype in (torch.float16, torch.bfloat16):
            scores = scores.float()
        return scores

    def loss_by_feat(self, cls_scores: torch.Tensor,
                     data_samples: SampleList) -> Dict:
        """Classification loss and top-k accuracies, all on the device.

        Same values as mmaction's ``BaseHead.loss_by_feat``, whose top-k
        accuracy goes through numpy: two reads of device tensors a step, each
        of which would make the host wait for the GPU's queue to drain.

        Args:
            cls_scores (torch.Tensor): ``(B, num_classes)`` class scores.
            data_samples (list[ActionDataSample]): ``gt_label`` per clip.

        Returns:
            dict: ``loss_cls`` and ``top{k}_acc`` (0-dim tensors).
        """
        labels = torch.stack([x.gt_label for x in data_samples]).to(
            cls_scores.device, non_blocking=True)
        if labels.numel() != cls_scores.shape[0]:  # soft labels
            return super().loss_by_feat(cls_scores, data_samples)
        labels = labels.view(-1)
        losses = dict()
        top = cls_scores.detach().topk(max(self.topk), dim=1).indices
        hits = top == labels.unsqueeze(1)
        for k in self.topk:
            losses[f'top{k}_acc'] = hits[:, :k].any(1).float().mean()
        target = labels
        if self.label_smooth_eps != 0:
            target = ((1 - self.label_smooth_eps) *
                      F.one_hot(labels, self.num_classes) +
                      self.label_smooth_eps / self.num_classes)
        loss_cls = self.loss_cls(cls_scores, target)
        if isinstance(loss_cls, dict):
            losses.update(loss_cls)
        else:
            losses['loss_cls'] = loss_cls
        return losses

    def predict_by_feat(self, cls_scores: torch.Tensor,
                        data_samples: SampleList) -> SampleList:
        """Set softmax ``pred_score`` and ``pred_label`` per sample."""
        scores = F.softmax(cls_scores, dim=1).detach()
        labels = scores.argmax(dim=1, keepdim=True)
        for sample, score, label in zip(data_samples, scores, labels):
            sample.set_pred_score(score)
            sample.set_pred_label(label)
        return data_samples
