"""Models, clips and train/inference steps measured by ``tools/benchmark.py``.

Every step takes the batch as the data loader hands it over (a list of
uint8 clips + data samples) and goes through the model's own
``train_step`` / ``test_step``, as a training or test loop would.
"""
import os.path as osp
from typing import Callable, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
IMAGENET_MEAN = [123.675, 116.28, 103.53]
IMAGENET_STD = [58.395, 57.12, 57.375]


def draw_lengths(num_clips: int, min_len: int, max_len: int,
                 seed: int) -> List[int]:
    """Clip lengths in ``[min_len, max_len]``, both ends included, shuffled.

    With ``(8, 24, 141, 0)``: ``[131, 81, 24, 141, 40, 99, 46, 141]``.
    """
    gen = torch.Generator().manual_seed(seed)
    inner = torch.randint(min_len, max_len + 1, (max(num_clips - 2, 0), ),
                          generator=gen).tolist()
    lengths = ([min_len, max_len] + inner)[:num_clips]
    order = torch.randperm(num_clips, generator=gen).tolist()
    return [lengths[i] for i in order]


def make_clips(lengths: Sequence[int], channels: int, size: int, seed: int,
               device: torch.device, num_classes: int = 4):
    """uint8 clips ``(T_i, C, size, size)`` on ``device`` + labelled samples.
    """
    from mmaction.structures import ActionDataSample
    gen = torch.Generator().manual_seed(seed)
    clips = [torch.randint(0, 256, (t, channels, size, size),
                           dtype=torch.uint8, generator=gen).to(device)
             for t in lengths]
    samples = [ActionDataSample().set_gt_label(i % num_classes)
               for i in range(len(lengths))]
    return clips, samples


def akmnet_cfg(size: int = 128, num_classes: int = 4, **backbone) -> dict:
    """The default AKMNet (``configs/_base_/models/akmnet_r18.py``: RGB,
    torchvision stem) for ``size``×``size`` frames."""
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/models/akmnet_r18.py')).model
    cfg.backbone.update(backbone)
    cfg.cls_head.update(num_classes=num_classes, spatial_size=size // 32)
    return cfg.to_dict()


def mmaction_cfg(name: str, num_classes: int = 4) -> dict:
    """A baseline model config of ``configs/_base_/models/`` (tsn/i3d)."""
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(REPO, f'configs/_base_/models/{name}.py')).model
    cfg.cls_head.num_classes = num_classes
    return cfg.to_dict()


def build(cfg: dict, device: torch.device, seed: int = 0) -> nn.Module:
    """Build a registered model with seeded initial weights on ``device``."""
    from mmaction.registry import MODELS
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.to(device)


def optim_wrapper(model: nn.Module, amp: bool = False):
    """The paper's SGD (1e-3, 0.9, 5e-4) in an mmengine optimizer wrapper;
    ``amp`` selects mmakm's autocast wrapper (bf16/fp16 by device)."""
    from mmengine.optim import build_optim_wrapper
    cfg = dict(type='AutocastOptimWrapper' if amp else 'OptimWrapper',
               optimizer=dict(type='SGD', lr=1e-3, momentum=0.9,
                              weight_decay=5e-4))
    return build_optim_wrapper(model, cfg)


def train_step(model: nn.Module, data: dict, wrapper) -> Callable[[], None]:
    """One training iteration (forward, backward, SGD) of ``data``."""
    def step():
        model.train()
        model.train_step(data, wrapper)
    return step


def test_step(model: nn.Module, data: dict) -> Callable[[], None]:
    """One inference iteration (``predict`` under no_grad) of ``data``."""
    def step():
        model.eval()
        with torch.no_grad():
            model.test_step(data)
    return step


class BareFrameClassifier(nn.Module):
    """The per-frame ResNet-18 alone: FrameResNet + average pool + linear.

    The lower bound AKMNet is measured against: same backbone, same frames,
    each frame classified on its own (clip label on every frame).
    """

    def __init__(self, akmnet_cfg: dict, num_classes: int = 4) -> None:
        super().__init__()
        from mmaction.registry import MODELS
        # the preprocessor and backbone of the AKMNet it stands for
        self.data_preprocessor = MODELS.build(akmnet_cfg['data_preprocessor'])
        self.backbone = MODELS.build(akmnet_cfg['backbone'])
        self.fc = nn.Linear(self.backbone.out_channels, num_classes)

    def to(self, *args, **kwargs) -> 'BareFrameClassifier':
        """Move the model and tell the preprocessor its device (as
        mmengine's ``BaseModel.to`` does)."""
        super().to(*args, **kwargs)
        self.data_preprocessor.to(*args, **kwargs)
        return self

    def forward_frames(self, data: dict) -> Tuple[torch.Tensor,
                                                  torch.Tensor]:
        """``(ΣT, num_classes)`` logits and ``(ΣT,)`` frame labels."""
        data = self.data_preprocessor(data, self.training)
        frames = data['inputs']
        lengths = torch.tensor(
            [s.metainfo['num_frames'] for s in data['data_samples']],
            device=frames.device)
        labels = torch.stack(
            [s.gt_label.reshape(()) for s in data['data_samples']])
        feats = self.backbone(frames).mean((2, 3))
        return self.fc(feats), labels.to(frames.device).repeat_interleave(
            lengths)


def bare_train_step(model: BareFrameClassifier, data: dict,
                    optimizer: torch.optim.Optimizer,
                    autocast_dtype: Optional[torch.dtype] = None
                    ) -> Callable[[], None]:
    """Forward, cross-entropy, backward and SGD of the bare backbone
    (forward under autocast when ``autocast_dtype`` is given, as AKMNet's
    step under ``AutocastOptimWrapper``)."""
    device_type = next(model.parameters()).device.type

    def step():
        model.train()
        optimizer.zero_grad()
        with torch.autocast(device_type, dtype=autocast_dtype or
                            torch.bfloat16,
                            enabled=autocast_dtype is not None):
            logits, labels = model.forward_frames(data)
            loss = F.cross_entropy(logits.float(), labels)
        loss.backward()
        optimizer.step()
    return step


def bare_test_step(model: BareFrameClassifier,
                   data: dict) -> Callable[[], None]:
    """Backbone features of every frame under no_grad (eval mode)."""
    def step():
        model.eval()
        with torch.no_grad():
            model.forward_frames(data)
    return step


def official_cfg(size: int = 128, train_cfg: Optional[dict] = None,
                 **backbone) -> dict:
    """mmakm's AKMNet as the authors' code runs (gray, 5×5 stem, 1/255);
    ``train_cfg`` e.g. ``dict(micro_batch_frames=1)``."""
    from mmakm.models.official import official_akmnet_cfg
    cfg = official_akmnet_cfg(spatial_size=size // 32)
    cfg['backbone'].update(backbone)
    if train_cfg:
        cfg['train_cfg'] = dict(train_cfg)
    return cfg


class OfficialAccumulation:
    """The authors' training step: one clip per forward, the loss of each
    divided by the batch size, gradients accumulated, one SGD step.

    Args:
        reference (nn.Module): an ``OfficialAKMNet`` on the target device.
    """

    def __init__(self, reference: nn.Module) -> None:
        self.model = reference
        self.optimizer = torch.optim.SGD(reference.parameters(), lr=1e-3,
                                         momentum=0.9, weight_decay=5e-4)

    def step(self, clips: Sequence[torch.Tensor],
             samples: Sequence) -> Callable[[], None]:
        labels = [int(s.gt_label) for s in samples]

        def run():
            self.model.train()
            self.optimizer.zero_grad()
            for clip, label in zip(clips, labels):
                losses = self.model.losses(self.model(clip), label)
                # their L_MMM is NaN when no β lies below the mean; keep
                # the weights finite so every repeat does the same work
                loss = sum(torch.nan_to_num(v) for v in losses.values())
                (loss / len(clips)).backward()
            self.optimizer.step()
        return run
