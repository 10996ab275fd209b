"""A reference of what the authors' AKMNet code computes, one clip at a time.

Written from the authors' public code (github Trunpm/AKMNet-Micro-Expression,
``models/resnet.py``, ``main.py``, ``util.py``) to pin mmakm's packed,
batched implementation to it (``tests/models/test_official_conformance.py``).
It depends on torch only, never on mmakm's model code, so it can catch a
change there. Like the authors' code it runs ONE clip, unpacked:

* input: a gray clip ``(T, 1, H, W)`` of pixel values in [0, 255], scaled by
  1/255 (their ``ToTorchFormatTensor(div=True)``, no mean/std);
* ResNet-18 with a 1-channel 5×5 stride-2 stem (their ``ResNet``), all frames
  as one BatchNorm batch;
* α = σ(Linear(P̄_t)) (``alpha``); P̃ = Σ_t α_t P̄_t; β_t = ⟨P̄_t/‖P̄_t‖,
  P̃/‖P̃‖⟩ (``F.normalize``);
* B_t = 1 if β_t ≥ mean(β) (their ``BinarizedF``): backward passes the
  gradient to every frame iff 0 < mean(β) < 1;
* F ⊙ B, the frames with B = 1 kept in order; one bi-GRU (2 layers, 32 per
  direction) over every spatial position's sequence; mean over the key
  frames; G flattened as (position, channel); dropout 0.5; linear;
* losses: cross-entropy; L_GS = 0.1·max(0, ΣB − 1) (``BLoss``);
  L_MMM = 1·(2 − (mean{β_t > mean β} − mean{β_t < mean β})) (``BwLoss``).

Where their code is defective, the reference keeps the defect, stated here so
a comparison only uses clips where it is defined: L_MMM is NaN when no β is
below the mean (T = 1, or all β equal; mmakm defines it as 0 there), and
β_t equal to the mean exactly is in neither mean of L_MMM (mmakm counts it as
selected). The state dict has the official keys, so a reference checkpoint is
an official checkpoint (:func:`copy_to_akmnet` converts it).
"""
from typing import Dict, NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['OfficialAKMNet', 'OfficialOutput', 'copy_to_akmnet']


class OfficialOutput(NamedTuple):
    """One clip through :class:`OfficialAKMNet`.

    Attributes:
        alpha (torch.Tensor): ``(T,)`` α_t.
        beta (torch.Tensor): ``(T,)`` β_t (their ``Bw``).
        selection (torch.Tensor): ``(T,)`` 0/1 B_t with the official gradient.
        cls_score (torch.Tensor): ``(1, num_classes)`` logits (their ``out``).
    """

    alpha: torch.Tensor
    beta: torch.Tensor
    selection: torch.Tensor
    cls_score: torch.Tensor


class _Binarize(torch.autograd.Function):
    """B = (β ≥ mean β); ∂/∂β = ∂/∂B where 0 < mean β < 1, else 0."""

    @staticmethod
    def forward(ctx, beta):
        mean = beta.mean()
        ctx.save_for_backward(mean)
        return (beta >= mean).to(beta.dtype)

    @staticmethod
    def backward(ctx, grad):
        mean, = ctx.saved_tensors
        return grad * ((mean > 0) & (mean < 1)).to(grad.dtype)


class _BasicBlock(nn.Module):
    """ResNet basic block (3×3, 3×3, identity or 1×1 projection)."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                nn.BatchNorm2d(planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class OfficialAKMNet(nn.Module):
    """The authors' AKMNet for one gray clip (see the module docstring).

    Args:
        num_classes (int): classes. Defaults to 4.
        base_channels (int): width of the first stage, 64 in their code
            (smaller only for quick tests; α and the GRU then read
            ``8·base_channels`` channels instead of 512).
        spatial_size (int): side of the last feature map, 4 for their
            128×128 frames; sets the classifier's input size.
        dropout (float): dropout before the classifier. Defaults to 0.5.
    """

    def __init__(self, num_classes: int = 4, base_channels: int = 64,
                 spatial_size: int = 4, dropout: float = 0.5) -> None:
        super().__init__()
        width = base_channels
        self.conv1 = nn.Conv2d(1, width, 5, 2, 2, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = width
        for i in range(4):
            planes = width * 2**i
            stride = 1 if i == 0 else 2
            self.add_module(f'layer{i + 1}', nn.Sequential(
                _BasicBlock(inplanes, planes, stride),
                _BasicBlock(planes, planes)))
            inplanes = planes
        self.alpha = nn.Sequential(nn.Linear(inplanes, 1), nn.Sigmoid())
        self.gru = nn.GRU(inplanes, 32, 2, bidirectional=True,
                          batch_first=True)
        self.fc = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(64 * spatial_size**2, num_classes))
        self._init_like_official()

    def _init_like_official(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                        nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.GRU):
                for name, p in m.named_parameters():
                    if name.endswith(('_l0', '_l1')):  # forward direction
                        init = (nn.init.orthogonal_ if 'weight' in name
                                else nn.init.uniform_)
                        init(p)

    def forward(self, clip: torch.Tensor) -> OfficialOutput:
        """Run one clip.

        Args:
            clip (torch.Tensor): ``(T, 1, H, W)`` gray pixel values in
                [0, 255] (any dtype; computed in the parameters' dtype).

        Returns:
            OfficialOutput: α, β, B ``(T,)`` and logits ``(1, num_classes)``.
        """
        if clip.dim() != 4 or clip.shape[1] != 1:
            raise ValueError('OfficialAKMNet runs one gray clip (T, 1, H, W),'
                             f' got shape {tuple(clip.shape)}')
        x = clip.to(self.conv1.weight.dtype) / 255
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        num_frames, channels, h, w = x.shape  # (T, C, h, w)

        pooled = x.mean(dim=(2, 3))  # (T, C)
        alpha = self.alpha(pooled).squeeze(1)  # (T,)
        clip_feat = (pooled * alpha.unsqueeze(1)).sum(0)  # (C,)
        beta = F.normalize(pooled, dim=1) @ F.normalize(clip_feat, dim=0)
        selection = _Binarize.apply(beta)

        weighted = x * selection.view(-1, 1, 1, 1)
        key = weighted[selection.detach() == 1]  # (N, C, h, w)
        seqs = key.permute(2, 3, 0, 1).reshape(h * w, -1, channels)
        out, _ = self.gru(seqs)  # (h·w, N, 64)
        feat = out.mean(dim=1).reshape(1, -1)  # (1, h·w·64): position-major
        return OfficialOutput(alpha, beta, selection, self.fc(feat))

    @staticmethod
    def losses(out: OfficialOutput, label: int) -> Dict[str, torch.Tensor]:
        """``loss_cls``, ``loss_gs``, ``loss_mmm`` of one clip (weighted).

        ``loss_mmm`` is NaN when no β lies strictly below the mean (as in the
        authors' code).
        """
        target = torch.tensor([int(label)], device=out.cls_score.device)
        beta = out.beta
        mean = beta.mean()
        above, below = beta[beta > mean], beta[beta < mean]
        return dict(
            loss_cls=F.cross_entropy(out.cls_score, target),
            loss_gs=0.1 * torch.clamp(out.selection.sum() - 1, min=0),
            loss_mmm=1.0 * (2.0 - (above.mean() - below.mean())))


def copy_to_akmnet(reference: OfficialAKMNet, akmnet: nn.Module) -> None:
    """Load the reference's weights into mmakm's AKMNet.

    ``akmnet`` must be built from
    :func:`mmakm.models.official.official_akmnet_cfg` (same ``num_classes``,
    ``base_channels`` and ``spatial_size``); every tensor must match.
    """
    from mmakm.models.official import convert_official_state_dict
    akmnet.load_state_dict(
        convert_official_state_dict(reference.state_dict()), strict=True)
