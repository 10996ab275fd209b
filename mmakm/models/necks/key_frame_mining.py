"""Adaptive key-frame mining (AKMNet eqs 5-9, 14-17) on packed clips."""
from typing import Dict, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS


class KeyFrameOutput(NamedTuple):
    """What :class:`KeyFrameMining` returns.

    Attributes:
        features (torch.Tensor): ``(ΣN, C, h, w)`` key-frame features
            ``F ⊙ B`` of the selected frames (``F ⊙ β`` of every frame for
            ``selection='soft'``), clip after clip, each clip's frames in
            their original order.
        key_lengths (torch.Tensor): ``(B,)`` int64, N_i = key frames per clip
            (always ≥ 1).
        alpha (torch.Tensor): ``(ΣT,)`` local attention α_t (eq 5).
        beta (torch.Tensor): ``(ΣT,)`` global correlation β_t (eqs 6-7).
        selection (torch.Tensor): ``(ΣT,)`` hard 0/1 selection B_t (eq 8)
            whose gradient follows the chosen rule (eqs 16-17 or official);
            a constant (no gradient) for ``'random'``, ``'soft'`` and
            ``'all'`` (1 for every frame for the last two).
    """

    features: torch.Tensor
    key_lengths: torch.Tensor
    alpha: torch.Tensor
    beta: torch.Tensor
    selection: torch.Tensor


def as_lengths(lengths: Union[torch.Tensor, Sequence[int]], total: int,
               device: torch.device) -> torch.Tensor:
    """Validate clip lengths and return them as an int64 tensor ``(B,)``
    on ``device``.

    Lengths given on the host (a sequence or a CPU tensor) are checked there
    and copied without waiting for the device: no host <-> device
    synchronisation. Lengths already on an accelerator are checked there,
    which makes the host wait for it.
    """
    lengths = torch.as_tensor(lengths, dtype=torch.long)
    if lengths.dim() != 1 or lengths.numel() == 0:
        raise ValueError('lengths must be a non-empty 1-D sequence of clip '
                         f'lengths, got shape {tuple(lengths.shape)}.')
    if bool((lengths <= 0).any()):
        raise ValueError(f'zero-length clips are not allowed: lengths='
                         f'{lengths.tolist()}')
    if int(lengths.sum()) != total:
        raise ValueError(f'clip lengths {lengths.tolist()} sum to '
                         f'{int(lengths.sum())}, but {total} frames were '
                         f'given (they must sum to {total}).')
    return lengths.to(device, non_blocking=True)


def segment_sum(x: torch.Tensor, seg: torch.Tensor, num: int) -> torch.Tensor:
    """Sum the rows of ``x`` ``(ΣT, ...)`` per segment id → ``(num, ...)``."""
    return x.new_zeros((num, ) + x.shape[1:]).index_add_(0, seg, x)


def threshold_select(beta: torch.Tensor, lengths: torch.Tensor,
                     threshold: str = '>') -> torch.Tensor:
    """Hard selection of eq 8, per clip, with the all-equal fallback.

    Args:
        beta (torch.Tensor): ``(ΣT,)`` β of packed clips.
        lengths (torch.Tensor): ``(B,)`` clip lengths.
        threshold (str): ``'>'`` (B_t = β_t > mean) or ``'>='``.

    Returns:
        torch.Tensor: ``(ΣT,)`` bool; a clip where no frame passes keeps all
        its frames.
    """
    num = lengths.numel()
    seg = torch.repeat_interleave(  # output_size: no device sync
        torch.arange(num, device=beta.device), lengths,
        output_size=beta.shape[0])
    b = beta.detach()
    mean = (segment_sum(b, seg, num) / lengths)[seg]
    hard = b > mean if threshold == '>' else b >= mean
    count = segment_sum(hard.long(), seg, num)
    return hard | (count == 0)[seg]


SELECTIONS = ('mining', 'random', 'soft', 'all')


@MODELS.register_module()
class KeyFrameMining(BaseModule):
    """Key-frame mining neck of AKMNet, vectorised over packed clips.

    For every clip (its own frames only), with P̄_t the spatially pooled
    feature of frame t:

    * local self-attention (eq 5): α_t = σ(wᵀ P̄_t + b);
    * global correlation (eqs 6-7): P̃ = Σ_t α_t P̄_t, β_t = cos(P̄_t, P̃);
    * sparse selection (eq 8): B_t = 1 if β_t > mean(β) (``threshold='>'``,
      paper) or ``>=`` (official code). If no frame passes (all β equal,
      e.g. T = 1, with ``'>'``), every frame of that clip is kept, so each
      clip has at least one key frame.
    * F_key = F ⊙ B (eq 9), keeping the frames with B = 1 in order.

    What is passed on is chosen by ``selection``; each mode does what its
    paper row means:

    * ``'mining'`` (AKMNet, s13, s23): steps 1-3 as above, hard B with a
      gradient into β by ``grad_rule``.
    * ``'soft'`` (s12, steps 1+2 without sparse selection): every frame is
      kept and weighted by its β, F ⊙ β (soft, nothing binarised); α and β
      learn from the classification loss only (the GS-MMM losses need a
      hard B and do not apply).
    * ``'random'`` (random key frames): as many frames per clip as the
      threshold of eq 8 keeps, chosen uniformly at random, in order.
      Nothing about frames is learnt: the count comes from β computed with
      α ≡ 1 and no gradient, the attention layer is not built, and B is a
      constant. Draws come from two ``torch.Generator`` seeded with
      ``seed``: one for training, whose state checkpoints carry
      (:meth:`get_rng_state`, restored on ``--resume``), and one for
      evaluation, seeded afresh each time the model enters eval mode, so
      an evaluation's draws do not depend on what ran before it.
    * ``'all'`` (same net, all frames, no mining): B ≡ 1 constant, features
      unchanged; no attention layer, α ≡ β ≡ 1.

    ``'random'`` and ``'all'`` have no mining parameter, so DDP sees no
    unused parameter. The GS-MMM losses apply to ``'mining'`` only
    (:class:`AKMNet` refuses ``loss_aux`` otherwise).

    Step ablations (``'mining'`` or ``'soft'``): ``use_local_attention=False``
    (s23) sets α ≡ 1; ``use_global_correlation=False`` (s13) uses β_t = α_t
    (the attention itself is thresholded).

    Gradient through the hard B of ``'mining'`` (forward is always hard):

    * ``'paper'`` (eqs 16-17): ∂Ω/∂β_t = ∂Ω/∂B_t if B_t = 1 else 0 (a
      straight-through estimator gated by B; the threshold's dependence on
      β is ignored);
    * ``'official'``: ∂Ω/∂β_t = ∂Ω/∂B_t for every frame of a clip whenever
      0 < mean(β) < 1 for that clip, else 0.

    With F_key = F ⊙ B, ∂Ω/∂B_t = ⟨∂Ω/∂F_key,t, F_t⟩ for kept frames; dropped
    frames receive ∂Ω/∂B only from losses on B itself (e.g. L_GS).

    Args:
        in_channels (int): feature channels C (512 for ResNet-18).
        selection (str): ``'mining'``, ``'soft'``, ``'random'`` or
            ``'all'`` (see above). Defaults to ``'mining'``.
        use_local_attention (bool): step 1 on/off. Defaults to True.
        use_global_correlation (bool): step 2 on/off. Defaults to True.
        threshold (str): ``'>'`` (paper) or ``'>='`` (official code).
        grad_rule (str): ``'paper'`` or ``'official'``.
        seed (int, optional): seed of the generators of
            ``selection='random'``. None (default): torch's seed when the
            neck is built, i.e. the run's ``randomness.seed`` (``--seed``),
            so runs with other seeds draw other key frames.
        eps (float): epsilon of the cosine similarity.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 in_channels: int = 512,
                 selection: str = 'mining',
                 use_local_attention: bool = True,
                 use_global_correlation: bool = True,
                 threshold: str = '>',
                 grad_rule: str = 'paper',
                 seed: Optional[int] = None,
                 eps: float = 1e-8,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if threshold not in ('>', '>='):
            raise ValueError(f"threshold must be '>' or '>=', got "
                             f'{threshold!r}')
        if grad_rule not in ('paper', 'official'):
            raise ValueError(f"grad_rule must be 'paper' or 'official', got "
                             f'{grad_rule!r}')
        if selection not in SELECTIONS:
            raise ValueError(f'selection must be one of {SELECTIONS}, got '
                             f'{selection!r}')
        if not use_local_attention and not use_global_correlation:
            raise ValueError('at least one of use_local_attention / '
                             'use_global_correlation must be on (β needs '
                             'one of them).')
        if selection in ('random', 'all') and not (
                use_local_attention and use_global_correlation):
            raise ValueError(f'selection={selection!r} learns no mining '
                             'step: leave use_local_attention / '
                             'use_global_correlation at their defaults.')
        self.in_channels = in_channels
        self.selection = selection
        self.use_local_attention = use_local_attention
        self.use_global_correlation = use_global_correlation
        self.threshold = threshold
        self.grad_rule = grad_rule
        self.seed = torch.initial_seed() if seed is None else seed
        self.eps = eps
        # 'train' / 'eval' generators of selection='random', made on use
        self._generators: Dict[str, torch.Generator] = {}
        if use_local_attention and selection in ('mining', 'soft'):
            self.attention = nn.Linear(in_channels, 1)

    def forward(self, x: torch.Tensor,
                lengths: Union[torch.Tensor, Sequence[int]]) -> KeyFrameOutput:
        """Mine the key frames of every clip.

        Args:
            x (torch.Tensor): ``(ΣT, C, h, w)`` packed frame features.
            lengths (torch.Tensor | Sequence[int]): ``(B,)`` clip lengths.

        Returns:
            KeyFrameOutput: see its docstring.
        """
        if x.dim() != 4:
            raise ValueError('KeyFrameMining expects packed features '
                             f'(ΣT, C, h, w), got shape {tuple(x.shape)}.')
        if x.shape[1] != self.in_channels:
            raise ValueError(f'KeyFrameMining was built for {self.in_channels}'
                             f' channels, got {x.shape[1]}.')
        lengths = as_lengths(lengths, x.shape[0], x.device)
        num = lengths.numel()
        seg = torch.repeat_interleave(  # output_size: no device sync
            torch.arange(num, device=x.device), lengths,
            output_size=x.shape[0])

        if self.selection == 'all':
            ones = x.new_ones(x.shape[0], dtype=torch.promote_types(
                x.dtype, torch.float32))  # float32 as β of the other modes
            return KeyFrameOutput(x, lengths, ones, ones, ones)
        if self.selection == 'random':
            with torch.no_grad():  # only the count of eq 8 is used
                alpha, beta = self._alpha_beta(x.detach(), seg, num)
            hard = self._random_like(
                threshold_select(beta, lengths, self.threshold), seg, lengths)
            selection = hard.to(x.dtype)
            return KeyFrameOutput(x[hard], segment_sum(hard.long(), seg, num),
                                  alpha, beta, selection)

        alpha, beta = self._alpha_beta(x, seg, num)
        if self.selection == 'soft':
            features = x * beta.to(x.dtype).view(-1, 1, 1, 1)
            return KeyFrameOutput(features, lengths, alpha, beta,
                                  torch.ones_like(beta))

        hard = threshold_select(beta, lengths, self.threshold)
        gate = hard.to(beta.dtype)
        if self.grad_rule == 'official':
            mean = segment_sum(beta.detach(), seg, num) / lengths
            gate = ((mean > 0) & (mean < 1)).to(beta.dtype)[seg]
        selection = hard.to(beta.dtype) + (beta - beta.detach()) * gate

        # B is exactly 0/1 in any dtype: the features keep the backbone's
        # (autocast) dtype, the gradient still reaches the float32 β
        features = (x * selection.to(x.dtype).view(-1, 1, 1, 1))[hard]
        key_lengths = segment_sum(hard.long(), seg, num)
        return KeyFrameOutput(features, key_lengths, alpha, beta, selection)

    def _alpha_beta(self, x: torch.Tensor, seg: torch.Tensor,
                    num: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """α (eq 5) and β (eqs 6-7), each ``(ΣT,)``, float32 (float64 for
        a float64 model).

        At least float32, also under autocast: the β of one clip differ
        in the third decimal, below bfloat16's and float16's resolution
        (the mean threshold of eq 8 then keeps every frame), and float16
        flushes the cosine's eps of 1e-8 to 0 (β = 0/0 = NaN for features
        that are all zero after the ReLU). ``(ΣT, C)`` values: no cost.
        """
        with torch.autocast(x.device.type, enabled=False):
            dtype = torch.promote_types(x.dtype, torch.float32)
            pooled = x.mean(dim=(2, 3), dtype=dtype)  # P̄: (ΣT, C)
            if hasattr(self, 'attention'):
                w, b = self.attention.weight, self.attention.bias
                alpha = torch.sigmoid(F.linear(pooled, w.to(dtype),
                                               b.to(dtype))).squeeze(1)
            else:
                alpha = pooled.new_ones(pooled.shape[0])
            if not self.use_global_correlation:
                return alpha, alpha
            clip_feat = segment_sum(alpha.unsqueeze(1) * pooled, seg, num)
            beta = F.cosine_similarity(pooled, clip_feat[seg], dim=1,
                                       eps=self.eps)
        return alpha, beta

    def _random_like(self, hard: torch.Tensor, seg: torch.Tensor,
                     lengths: torch.Tensor) -> torch.Tensor:
        """Random frames, as many per clip as ``hard`` selects, in order."""
        num = lengths.numel()
        count = segment_sum(hard.long(), seg, num)
        noise = torch.rand(hard.shape[0], generator=self._generator(),
                           dtype=torch.float64).to(hard.device)
        order = torch.argsort(seg.to(torch.float64) + noise)  # shuffle in clip
        starts = torch.cumsum(lengths, 0) - lengths
        rank = torch.empty_like(seg)
        position = torch.arange(seg.numel(), device=seg.device)
        rank[order] = position - starts[seg]
        return rank < count[seg]

    # ------------------------------------------- random key frames' draws
    def _generator(self, mode: Optional[str] = None) -> torch.Generator:
        """The generator of ``mode`` (``'train'`` / ``'eval'``; default:
        the module's current mode), seeded with ``seed`` on first use."""
        mode = mode or ('train' if self.training else 'eval')
        if mode not in self._generators:
            self._generators[mode] = torch.Generator().manual_seed(self.seed)
        return self._generators[mode]

    def train(self, mode: bool = True) -> 'KeyFrameMining':
        """Set the mode; entering eval mode re-seeds the evaluation draws,
        so every evaluation of a model draws the same random key frames
        for the same clips in the same order (in training or in a fresh
        process, whatever ran before)."""
        if not mode:
            self._generators.pop('eval', None)
        return super().train(mode)

    def get_rng_state(self) -> Optional[torch.Tensor]:
        """State of the training draws (``selection='random'``), for
        checkpoints; None for the other selections, which draw nothing."""
        if self.selection != 'random':
            return None
        return self._generator('train').get_state()

    def set_rng_state(self, state: torch.Tensor) -> None:
        """Continue the training draws from a :meth:`get_rng_state`."""
        self._generators['train'] = torch.Generator().set_state(
            torch.as_tensor(state, dtype=torch.uint8).cpu())
