"""Per-frame ResNet-18 for packed variable-length clips."""
import os
import os.path as osp
from collections import OrderedDict
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from mmaction.registry import MODELS


#: eval-mode chunk on CPU: ~32 frames of activations stay cache-sized
CPU_INFER_CHUNK = 32


def auto_infer_chunk(num_frames: int, bytes_per_frame: int,
                     free_bytes: int, budget: float = 0.5) -> int:
    """Eval chunk on an accelerator: 0 (whole batch) when ``num_frames``
    frames of ``bytes_per_frame`` fit in ``budget`` of ``free_bytes``,
    otherwise the largest chunk that does (at least 1)."""
    fit = int(free_bytes * budget) // max(bytes_per_frame, 1)
    return 0 if fit >= num_frames else max(fit, 1)


#: How to make the weight files ``pretrained`` expects (named when missing).
PRETRAINED_HINT = (
    'Macro-expression weights (ImageNet -> AffectNet, the paper) are made by '
    '`python tools/train.py configs/pretrain/frameresnet_affectnet4.py` '
    '(writes work_dirs/frameresnet_affectnet4/backbone.pth; RAF-DB / '
    'FER2013: configs/pretrain/frameresnet_{rafdb4,fer2013_4}.py). ImageNet '
    'weights: a torchvision resnet18 state dict, e.g. `python -c "import '
    'torch, torchvision; torch.save(torchvision.models.resnet18('
    "weights='IMAGENET1K_V1').state_dict(), 'checkpoints/resnet18.pth')\"`.")


class BasicBlock(nn.Module):
    """ResNet basic block with torchvision's layer names."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


@MODELS.register_module()
class FrameResNet(BaseModule):
    """ResNet-18 applied to every frame of packed clips, shared across frames.

    Input ``(ΣT, C, H, W)`` (the frames of all clips of a batch, no padding),
    output ``(ΣT, 8·base_channels, H/32, W/32)`` — ``(ΣT, 512, 4, 4)`` for
    128×128 frames. Only real frames are ever computed, so BatchNorm
    statistics are over real frames only. Layer names follow torchvision
    (``conv1``, ``bn1``, ``layer1..4``), so a torchvision ``resnet18`` state
    dict loads directly (its ``fc.*`` entries are ignored).

    Args:
        depth (int): only 18 is supported. Defaults to 18.
        in_channels (int): 1 (gray) or 3. With RGB weights and one input
            channel, ``conv1`` weights are summed over RGB (gray weights into
            three channels: divided by 3). Defaults to 3.
        stem (str): ``'torchvision'`` (7×7 stride-2 conv + 3×3 stride-2
            max-pool) or ``'paper'`` (5×5 stride-2 conv + the same max-pool,
            as the paper's Table II and the authors' code; 128 → 4×4 too).
            ImageNet's 7×7 ``conv1`` weights do not fit the paper stem:
            ``pretrained_ignore=('conv1.',)`` starts it from random weights.
            Defaults to ``'torchvision'``.
        base_channels (int): width of the first stage (64 for ResNet-18; a
            smaller value only for quick experiments/tests).
        pretrained (str, optional): path or URL of a torchvision-style
            checkpoint: ImageNet weights, or the macro-expression backbone
            exported by the ``configs/pretrain/`` configs (``backbone.pth``).
            Every tensor must arrive (:meth:`load_pretrained`); a missing
            file is an error naming the command that makes it.
        pretrained_ignore (Sequence[str]): prefixes of the keys that keep
            their initialisation when ``pretrained`` is loaded, e.g.
            ``('conv1.',)`` to put ImageNet weights under the 5×5 paper
            stem (as the authors' code does). Defaults to ``()``.
        frozen_stages (int): -1 freezes nothing; 0 freezes the stem; k ≥ 1
            freezes the stem and ``layer1..layerk``. Defaults to -1.
        norm_eval (bool): keep BatchNorm layers in eval mode while training.
        infer_chunk_size (int | str): in eval mode, frames go through the
            network in chunks of this many (0: all at once). Eval-mode
            BatchNorm uses running statistics, so the result is the same; on
            CPU, chunks of ~32 frames keep activations cache-sized and run
            about 2× faster than one 700-frame batch, while a GPU wants the
            whole batch. ``'auto'``: 32 on CPU; on CUDA the whole batch
            unless its activations would not fit in half the free memory
            (:func:`auto_infer_chunk`). Defaults to ``'auto'``.
        train_chunk_size (int): in train mode, frames go through the network
            in chunks of this many, each chunk normalised by BatchNorm with
            its own statistics (and updating the running statistics once per
            chunk). 0 (default): one batch, BN statistics over all real
            frames of the batch. Chunks keep the activations of a ~700-frame
            batch out of one multi-GB set, which trains faster on CPU
            (docs/benchmarks.md); the authors' code normalises over one clip
            (24–141 frames) at a time. A choice that changes what BN
            normalises over: compare accuracy before relying on it.
        channels_last (bool): keep weights and activations in the NHWC
            memory format (faster convolutions with cuDNN/oneDNN on recent
            hardware, bf16/fp16 tensor cores in particular). The output is
            returned contiguous. Defaults to False.
        init_cfg (dict, optional): mmengine init config (e.g.
            ``dict(type='Pretrained', checkpoint=...)``).
    """

    arch_settings = {18: (2, 2, 2, 2)}

    def __init__(self,
                 depth: int = 18,
                 in_channels: int = 3,
                 stem: str = 'torchvision',
                 base_channels: int = 64,
                 pretrained: Optional[str] = None,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 infer_chunk_size: Union[int, str] = 'auto',
                 channels_last: bool = False,
                 train_chunk_size: int = 0,
                 pretrained_ignore: Sequence[str] = (),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise ValueError(f'FrameResNet supports depth 18, got {depth}')
        if in_channels not in (1, 3):
            raise ValueError(f'in_channels must be 1 or 3, got {in_channels}')
        if stem not in ('torchvision', 'paper'):
            raise ValueError(f"stem must be 'torchvision' or 'paper', got "
                             f'{stem!r}')
        if not -1 <= frozen_stages <= 4:
            raise ValueError(f'frozen_stages must be in [-1, 4], got '
                             f'{frozen_stages}')
        self.depth = depth
        self.in_channels = in_channels
        self.stem = stem
        self.pretrained = pretrained
        self.pretrained_ignore = tuple(pretrained_ignore)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        if not (infer_chunk_size == 'auto' or (isinstance(
                infer_chunk_size, int) and infer_chunk_size >= 0)):
            raise ValueError("infer_chunk_size must be 'auto' or an int >= "
                             f'0, got {infer_chunk_size!r}')
        if not (isinstance(train_chunk_size, int) and train_chunk_size >= 0):
            raise ValueError('train_chunk_size must be an int >= 0, got '
                             f'{train_chunk_size!r}')
        self.infer_chunk_size = infer_chunk_size
        self.train_chunk_size = train_chunk_size
        self.channels_last = channels_last

        kernel = 7 if stem == 'torchvision' else 5
        self.conv1 = nn.Conv2d(in_channels, base_channels, kernel, 2,
                               kernel // 2, bias=False)
        self.bn1 = nn.BatchNorm2d(base_channels)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.inplanes = base_channels
        for i, blocks in enumerate(self.arch_settings[depth]):
            planes = base_channels * 2**i
            stride = 1 if i == 0 else 2
            self.add_module(f'layer{i + 1}',
                            self._make_layer(planes, blocks, stride))
        self.out_channels = self.inplanes
        if channels_last:
            self.to(memory_format=torch.channels_last)
        self._freeze_stages()

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Module:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Compute per-frame features.

        Args:
            x (torch.Tensor): ``(ΣT, C, H, W)`` packed frames.

        Returns:
            torch.Tensor: ``(ΣT, C', h, w)`` feature maps.
        """
        if x.dim() != 4:
            raise ValueError('FrameResNet expects packed frames '
                             f'(ΣT, C, H, W), got shape {tuple(x.shape)}.')
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f'FrameResNet was built for {self.in_channels} input '
                f'channels, got {x.shape[1]}: set model.backbone.in_channels='
                f'{x.shape[1]}, or let the data preprocessor convert the '
                f'frames (MEDataPreprocessor channels={self.in_channels}).')
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        chunk = (self.train_chunk_size if self.training else
                 self._infer_chunk(x))
        self._check_batch_norm_values(x, chunk)
        if chunk and x.shape[0] > chunk:
            out = torch.cat([self._forward(c) for c in x.split(chunk)])
        else:
            out = self._forward(x)
        return out.contiguous() if self.channels_last else out

    def _check_batch_norm_values(self, x: torch.Tensor, chunk: int) -> None:
        """Train-mode BatchNorm needs 2+ values per channel; its smallest
        input, layer4's, holds frames × ceil(H/32) × ceil(W/32) of them
        (one 32-px frame: 1)."""
        if not self.layer4[-1].bn2.training:
            return
        frames = x.shape[0]
        if chunk and frames > chunk:
            frames = (frames - 1) % chunk + 1  # the last chunk
        h, w = -(-x.shape[2] // 32), -(-x.shape[3] // 32)
        if frames * h * w < 2:
            raise ValueError(
                f'FrameResNet: train-mode BatchNorm cannot normalise '
                f'{frames} frame of {x.shape[2]}x{x.shape[3]} px (layer4 '
                f'gives {h}x{w} features: one value per channel). Train '
                'with more frames per forward (model.train_cfg.'
                'micro_batch_frames, model.backbone.train_chunk_size), '
                'frames larger than 32 px, or BatchNorm on its running '
                'statistics (model.backbone.norm_eval=True).')

    def _infer_chunk(self, x: torch.Tensor) -> int:
        """Frames per eval-mode chunk for the packed frames ``x``."""
        if self.infer_chunk_size != 'auto':
            return self.infer_chunk_size
        if x.device.type != 'cuda':
            return CPU_INFER_CHUNK
        free, _ = torch.cuda.mem_get_info(x.device)
        # the stem's output (C × H/2 × W/2) is the largest activation;
        # conv, BN and the next input coexist: ~4 such maps, fp32
        stem_out = self.conv1.out_channels * (x.shape[2] // 2) * (
            x.shape[3] // 2)
        return auto_infer_chunk(x.shape[0], 4 * stem_out * 4, free)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        return self.layer4(x)

    # ------------------------------------------------------------------ init
    def init_weights(self) -> None:
        """Kaiming init, then ImageNet weights if ``pretrained`` is set."""
        if self.pretrained is None and self.init_cfg is None:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                            nonlinearity='relu')
                elif isinstance(m, _BatchNorm):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
        elif self.pretrained is not None:
            self.load_pretrained(self.pretrained)
        else:
            super().init_weights()
        self._freeze_stages()

    def load_pretrained(self, filename: str) -> None:
        """Load a torchvision-style ResNet-18 state dict (path or URL).

        Accepted: a torchvision ``resnet18`` state dict (``fc.*`` ignored),
        the ``backbone.pth`` of the pretraining configs, or any mmengine
        checkpoint (``state_dict``/``model`` wrapper, ``module.`` prefix;
        only its ``backbone.*`` weights are taken when it has them). The
        stem adapts where it is exact for gray input: RGB ``conv1`` weights
        are summed into one channel, gray ones spread over three (÷ 3).
        Every other difference is an error: every tensor of the backbone
        must arrive, no other may be in the file, every shape must agree,
        except the keys of ``pretrained_ignore``.

        Raises:
            MissingCheckpointError: no such file (says how to make one).
            CheckpointError: the file is unreadable or does not fit,
                naming the missing, unexpected and mismatched keys.
        """
        from mmakm.engine.checkpoint import (CheckpointError,
                                             MissingCheckpointError,
                                             read_checkpoint,
                                             state_dict_mismatch)
        if '://' not in str(filename) and not osp.isfile(filename):
            raise MissingCheckpointError(
                f'FrameResNet: pretrained weights not found: {filename} '
                f'(cwd {os.getcwd()}). {PRETRAINED_HINT}')
        state = resnet_state_dict(read_checkpoint(filename))
        own = self.state_dict()
        adapted = self._adapt_stem(state, own['conv1.weight'])
        ignored = [k for k in own if k.startswith(self.pretrained_ignore)]
        for k in ignored:
            state.pop(k, None)
        mismatch = state_dict_mismatch(self, state)
        # torchvision's ImageNet files predate BN's num_batches_tracked
        mismatch.missing = [
            k for k in mismatch.missing if k not in ignored
            and not k.endswith('num_batches_tracked')]
        if mismatch:
            raise CheckpointError(
                f'FrameResNet: {filename} does not fit this backbone '
                f'({self._describe()}; the file: {_describe_stem(state)}):'
                f'\n  {mismatch.describe()}\nGive the backbone the '
                'settings the weights were trained with, or list the keys '
                'that may keep their initialisation in pretrained_ignore.')
        self.load_state_dict(state, strict=False)
        logger = MMLogger.get_current_instance()
        logger.info(f'FrameResNet: loaded {len(state)} tensors from '
                    f'{filename}' + (f'; conv1 {adapted}' if adapted else '')
                    + (f'; kept initialised: {ignored}' if ignored else ''))

    def _adapt_stem(self, state: dict, own: torch.Tensor) -> str:
        """Turn RGB ``conv1`` weights into gray ones (sum) or gray into RGB
        (÷ 3, repeated): the same response to a gray image either way.
        Returns what was done ('' when nothing)."""
        w = state.get('conv1.weight')
        if w is None or w.shape == own.shape or w.shape[0] != own.shape[0] \
                or w.shape[2:] != own.shape[2:]:
            return ''
        if w.shape[1] == 3 and own.shape[1] == 1:
            state['conv1.weight'] = w.sum(1, keepdim=True)
            return 'RGB weights summed over the channels'
        if w.shape[1] == 1 and own.shape[1] == 3:
            state['conv1.weight'] = w.repeat(1, 3, 1, 1) / 3
            return 'gray weights spread over RGB (/ 3)'
        return ''

    def _describe(self) -> str:
        return (f'stem={self.stem!r}, in_channels={self.in_channels}, '
                f'base_channels={self.conv1.out_channels}')

    # ------------------------------------------------------------ freezing
    def _freeze_stages(self) -> None:
        if self.frozen_stages >= 0:
            for m in (self.conv1, self.bn1):
                m.eval()
                for p in m.parameters():
                    p.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            m = getattr(self, f'layer{i}')
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def train(self, mode: bool = True) -> 'FrameResNet':
        """Set train mode, keeping frozen stages / BN layers in eval."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self


def resnet_state_dict(checkpoint: dict) -> 'OrderedDict[str, torch.Tensor]':
    """The ResNet weights of a checkpoint dict, torchvision names.

    Unwraps ``state_dict`` / ``model``, strips ``module.``; a recognizer's
    checkpoint gives its ``backbone.*`` weights only, a bare ResNet state
    dict everything but the classifier (``fc.*``).
    """
    from mmakm.engine.hooks import backbone_state_dict
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
    state = OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in checkpoint.items())
    if any(k.startswith('backbone.') for k in state):
        return backbone_state_dict(state)
    return OrderedDict(
        (k, v) for k, v in state.items() if not k.startswith('fc.'))


def _describe_stem(state: dict) -> str:
    """The stem settings a state dict's ``conv1`` was made with."""
    w = state.get('conv1.weight')
    if not isinstance(w, torch.Tensor) or w.dim() != 4:
        return 'no conv1.weight'
    stem = {7: "stem='torchvision'", 5: "stem='paper'"}.get(
        w.shape[-1], f'a {w.shape[-1]}x{w.shape[-1]} stem')
    return (f'conv1.weight {tuple(w.shape)}: {stem}, in_channels='
            f'{w.shape[1]}, base_channels={w.shape[0]}')
