"""Global-sparsity and min-max-margin losses of AKMNet (eqs 10-11)."""
from typing import Dict, Sequence, Union

import torch
import torch.nn as nn

from mmaction.registry import MODELS
from ..necks.key_frame_mining import as_lengths


@MODELS.register_module()
class GSMMMLoss(nn.Module):
    """λ1·L_GS + λ2·L_MMM on packed clips, each averaged over the clips.

    Per clip, with β_t its frames' global correlation and B_t the selection:

    * L_GS  = max(0, Σ_t B_t − 1)                                  (eq 10)
    * L_MMM = C − (mean{β_t : B_t = 1} − mean{β_t : B_t = 0})      (eq 11)

    L_GS is differentiable through B (whose gradient rule the neck chose);
    L_MMM is differentiable through β, with the hard B as masks. A clip with
    no unselected frame (T = 1, all β equal, or no sparse selection) has no
    second mean: its L_MMM is defined as 0 (the clip is skipped, no
    gradient), so the loss stays finite. Both terms are the mean over ALL
    clips of the batch, so a clip's contribution does not depend on the
    other clips. The λ weights are applied here; the runner sums the keys.

    Args:
        lambda_gs (float): λ1. Defaults to 0.1.
        lambda_mmm (float): λ2. Defaults to 1.0.
        margin (float): C. Defaults to 2.0.
    """

    def __init__(self, lambda_gs: float = 0.1, lambda_mmm: float = 1.0,
                 margin: float = 2.0) -> None:
        super().__init__()
        self.lambda_gs = lambda_gs
        self.lambda_mmm = lambda_mmm
        self.margin = margin

    def forward(self, beta: torch.Tensor, selection: torch.Tensor,
                lengths: Union[torch.Tensor, Sequence[int]]
                ) -> Dict[str, torch.Tensor]:
        """Compute both terms.

        Args:
            beta (torch.Tensor): ``(ΣT,)`` β of every frame.
            selection (torch.Tensor): ``(ΣT,)`` 0/1 selection B (may carry a
                straight-through gradient).
            lengths (torch.Tensor | Sequence[int]): ``(B,)`` clip lengths.

        Returns:
            dict: ``loss_gs`` and ``loss_mmm`` (weighted, scalars).
        """
        if beta.dim() != 1 or beta.shape != selection.shape:
            raise ValueError('beta and selection must both be (ΣT,), got '
                             f'{tuple(beta.shape)} and '
                             f'{tuple(selection.shape)}.')
        lengths = as_lengths(lengths, beta.numel(), beta.device)
        num = lengths.numel()
        seg = torch.repeat_interleave(  # output_size: no device sync
            torch.arange(num, device=beta.device), lengths,
            output_size=beta.numel())

        def seg_sum(v):
            return v.new_zeros(num).index_add_(0, seg, v)

        gs = torch.clamp(seg_sum(selection) - 1, min=0)

        sel = (selection.detach() > 0.5).to(beta.dtype)
        n_sel = seg_sum(sel)
        n_uns = lengths.to(beta.dtype) - n_sel
        valid = (n_sel > 0) & (n_uns > 0)
        mean_sel = seg_sum(beta * sel) / n_sel.clamp(min=1)
        mean_uns = seg_sum(beta * (1 - sel)) / n_uns.clamp(min=1)
        mmm = torch.where(valid, self.margin - (mean_sel - mean_uns),
                          torch.zeros_like(mean_sel))
        return dict(loss_gs=self.lambda_gs * gs.mean(),
                    loss_mmm=self.lambda_mmm * mmm.mean())
