"""AKMNet recognizer: per-frame CNN → key-frame mining → pixel bi-GRU."""
from contextlib import contextmanager
from typing import Dict, Tuple, Union

import torch

from mmaction.models.recognizers.base import BaseRecognizer
from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType, OptSampleList, SampleList
from ..data_preprocessors.me_data_preprocessor import split_clip_tensor
from ..necks.key_frame_mining import KeyFrameOutput, as_lengths
from .micro_batch import (check_cls_loss, check_train_cfg,
                          micro_batched_train_step)


#: modules that mix frames over time (MMAction2's TSM/TIN/TANet/TimeSformer
#: blocks, 3D convolutions, pooling and norms over T)
_TEMPORAL_MODULES = ('TemporalShift', 'TemporalInterlace', 'TAM',
                     'DividedTemporalAttentionWithNorm', 'Conv2plus1d')
_3D_MODULES = (torch.nn.Conv3d, torch.nn.ConvTranspose3d, torch.nn.MaxPool3d,
               torch.nn.AvgPool3d, torch.nn.AdaptiveAvgPool3d,
               torch.nn.AdaptiveMaxPool3d, torch.nn.BatchNorm3d)


def check_per_frame_backbone(backbone: torch.nn.Module) -> None:
    """AKMNet's backbone sees the packed frames of all clips
    ``(ΣT, C, H, W)``: it must treat each frame alone. A backbone that
    mixes frames over time (3D convolutions, temporal shift/attention)
    would mix frames across clip boundaries, or fail on the 4D input, so
    it is refused by design (use it under MMAction2's Recognizer2D/3D).

    Raises:
        ConfigMismatchError: naming the module (the tools print it as one
            ``error:`` line).
    """
    from mmakm.engine.consistency import ConfigMismatchError
    for name, module in backbone.named_modules():
        kind = type(module).__name__
        if isinstance(module, _3D_MODULES) or kind in _TEMPORAL_MODULES:
            raise ConfigMismatchError(
                f'AKMNet needs a per-frame (2D) backbone: it gets the '
                'packed frames of all clips (sum T, C, H, W). '
                f'{type(backbone).__name__} mixes frames over time '
                f"({kind} at '{name or 'backbone'}'), across clip "
                'boundaries in a packed batch. Use FrameResNet or a 2D '
                "MMAction2 backbone (ResNet, MobileNetV2, ResNetTSM with "
                'is_shift=False, ...); temporal backbones run under '
                'Recognizer2D/Recognizer3D with fixed-length clips.')


@MODELS.register_module()
class AKMNet(BaseRecognizer):
    """Adaptive Key-frame Mining Network for variable-length clips.

    Clips travel packed: ``inputs`` is ``(ΣT, C, H, W)`` (the frames of all
    clips, no padding) and ``data_samples[i].num_frames`` is clip i's length
    (set by :class:`MEDataPreprocessor`). An equal-length ``(N, T, C, H, W)``
    tensor is accepted too.

    backbone ``(ΣT, C, H, W) → (ΣT, C', h, w)`` (``FrameResNet`` or any 2D
    MMAction2 backbone, e.g. ``dict(type='ResNet', depth=18)``);
    neck ``KeyFrameMining`` → key frames, α, β, B; head ``PixelBiGRUHead`` →
    ``(B, num_classes)`` scores; ``loss_aux`` ``GSMMMLoss`` → L_GS, L_MMM.

    Modes: ``'loss'`` → ``dict(loss_cls, loss_gs, loss_mmm, top1_acc)``;
    ``'predict'`` → ActionDataSamples with ``pred_score`` (softmax),
    ``pred_label``, ``key_frames`` (LongTensor, 0-based positions within the
    clip as fed) and ``frame_weights`` (β of every fed frame, ``(T_i,)``);
    ``'tensor'`` → class scores ``(B, num_classes)`` (or the backbone / neck
    output with ``stage='backbone'`` / ``'neck'``).

    Args:
        backbone (dict): backbone config.
        neck (dict): key-frame mining config.
        cls_head (dict): head config.
        loss_aux (dict, optional): config of the mining losses. Defaults to
            ``dict(type='GSMMMLoss')``; None disables them. Only valid with
            a ``selection='mining'`` neck (an error otherwise).
        data_preprocessor (dict, optional): defaults to
            ``dict(type='MEDataPreprocessor')``.
        train_cfg (dict, optional): ``micro_batch_frames`` (int, default 0):
            0 or None trains the packed batch in one forward (BatchNorm over
            all its frames); N runs forward + backward on consecutive
            groups of whole clips of at most N frames each (a longer clip
            alone; 1 = one clip per group, the authors' BatchNorm regime),
            accumulates the gradients with each group weighted by its
            share of the batch loss, and takes one optimiser step
            (:mod:`mmakm.models.recognizers.micro_batch`).
        test_cfg (dict, optional): kept for MMAction2 parity.
    """

    def __init__(self,
                 backbone: ConfigType,
                 neck: ConfigType,
                 cls_head: ConfigType,
                 loss_aux: OptConfigType = dict(type='GSMMMLoss'),
                 data_preprocessor: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='MEDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(backbone=backbone, cls_head=cls_head, neck=neck,
                         train_cfg=train_cfg, test_cfg=test_cfg,
                         data_preprocessor=data_preprocessor)
        if not self.with_neck:
            raise ValueError('AKMNet needs a neck (KeyFrameMining).')
        check_per_frame_backbone(self.backbone)
        selection = getattr(self.neck, 'selection', 'mining')
        if loss_aux and selection != 'mining':
            # L_GS / L_MMM act on a mined B: on a random, soft or full B they
            # would train β on something that is not key-frame mining.
            raise ValueError(
                f'loss_aux (the GS-MMM losses) applies to key-frame mining '
                f"only; the neck has selection={selection!r}: set "
                'loss_aux=None.')
        self.loss_aux = MODELS.build(loss_aux) if loss_aux else None
        self.micro_batch_frames = check_train_cfg(train_cfg)
        if self.micro_batch_frames:
            check_cls_loss(self.cls_head.loss_cls)
        self._in_micro_batch_step = False

    # ----------------------------------------------------------- helpers
    @staticmethod
    def _split_inputs(inputs: torch.Tensor, data_samples: OptSampleList
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Packed frames ``(ΣT, C, H, W)`` and clip lengths ``(B,)``.

        The lengths stay on the host (from the data samples' metadata):
        the neck, head and losses check them there and copy them to the
        device without waiting for it.
        """
        if not isinstance(inputs, torch.Tensor):
            raise TypeError('AKMNet expects a tensor; pass lists of clips '
                            'through MEDataPreprocessor first.')
        if inputs.dim() not in (4, 5):
            raise ValueError(
                'AKMNet expects packed frames (ΣT, C, H, W) with '
                'data_samples[i].num_frames, or (N, T, C, H, W); got shape '
                f'{tuple(inputs.shape)}.')
        return split_clip_tensor(inputs, data_samples)

    def extract_feat(self,
                     inputs: torch.Tensor,
                     data_samples: OptSampleList = None,
                     stage: str = 'neck',
                     **kwargs) -> Tuple[Union[torch.Tensor, KeyFrameOutput],
                                        Dict]:
        """Backbone (and neck) features.

        Args:
            inputs (torch.Tensor): ``(ΣT, C, H, W)`` or ``(N, T, C, H, W)``.
            data_samples (list, optional): samples with ``num_frames``.
            stage (str): ``'backbone'`` or ``'neck'``.

        Returns:
            tuple: the features (``(ΣT, C', h, w)`` for the backbone, a
            :class:`KeyFrameOutput` for the neck) and ``dict(lengths=(B,))``.
        """
        frames, lengths = self._split_inputs(inputs, data_samples)
        x = self.backbone(frames)
        if isinstance(x, (tuple, list)):
            x = x[-1]
        if x.dim() == 2:
            # pooled features (MMAction2's torchvision./timm. backbones drop
            # the classifier, keep the pooling): a 1x1 map per frame, for a
            # head with spatial_size=1
            x = x[:, :, None, None]
        if stage == 'backbone':
            return x, dict(lengths=lengths)
        return self.neck(x, lengths), dict(lengths=lengths)

    # ------------------------------------------------------------ training
    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper) -> Dict[str, torch.Tensor]:
        """One optimiser step on ``data``: the whole packed batch in one
        forward, or in micro-batches (``train_cfg.micro_batch_frames``)."""
        if not self.micro_batch_frames:
            return super().train_step(data, optim_wrapper)
        return micro_batched_train_step(self, data, optim_wrapper,
                                        self.micro_batch_frames)

    @contextmanager
    def micro_batch_step(self):
        """Marks the forwards of :meth:`train_step`'s micro-batches."""
        self._in_micro_batch_step = True
        try:
            yield
        finally:
            self._in_micro_batch_step = False

    # ------------------------------------------------------------- modes
    def loss(self, inputs: torch.Tensor, data_samples: SampleList,
             **kwargs) -> dict:
        """``dict(loss_cls, loss_gs, loss_mmm, top1_acc)`` (λ applied)."""
        if (self.micro_batch_frames and self.training
                and not self._in_micro_batch_step):
            # e.g. MMDistributedDataParallel.train_step computes the loss
            # itself: the batch would silently lose its micro-batching
            raise RuntimeError(
                'model.train_cfg.micro_batch_frames='
                f'{self.micro_batch_frames} is applied by AKMNet.train_step,'
                ' but this training loss was requested from elsewhere (a '
                'model wrapper such as MMDistributedDataParallel does not '
                'call it): set micro_batch_frames=0 there.')
        out, extra = self.extract_feat(inputs, data_samples)
        losses = self.cls_head.loss(out.features, data_samples,
                                    key_lengths=out.key_lengths)
        if self.loss_aux is not None:
            losses.update(
                self.loss_aux(out.beta, out.selection, extra['lengths']))
        return losses

    def predict(self, inputs: torch.Tensor, data_samples: SampleList,
                **kwargs) -> SampleList:
        """Scores, labels, key frames and β per clip (see class doc)."""
        out, extra = self.extract_feat(inputs, data_samples)
        lengths = extra['lengths']
        if data_samples is None:
            from mmaction.structures import ActionDataSample
            data_samples = [ActionDataSample() for _ in range(len(lengths))]
        scores = self.cls_head(out.features, out.key_lengths)
        data_samples = self.cls_head.predict_by_feat(scores, data_samples)

        betas = out.beta.detach().float().split(lengths.tolist())
        lengths = as_lengths(lengths, out.beta.numel(), out.beta.device)
        seg = torch.repeat_interleave(  # output_size: no device sync
            torch.arange(lengths.numel(), device=lengths.device), lengths,
            output_size=out.beta.numel())
        starts = torch.cumsum(lengths, 0) - lengths
        pos = torch.arange(seg.numel(), device=seg.device) - starts[seg]
        hard = out.selection.detach() > 0.5
        key_frames = pos[hard].split(out.key_lengths.tolist())
        for sample, keys, beta in zip(data_samples, key_frames, betas):
            sample.set_field(keys, 'key_frames', dtype=torch.Tensor)
            sample.set_field(beta, 'frame_weights', dtype=torch.Tensor)
        return data_samples

    def _forward(self, inputs: torch.Tensor, stage: str = 'head',
                 data_samples: OptSampleList = None, **kwargs):
        """Class scores ``(B, num_classes)`` or intermediate features."""
        if stage not in ('backbone', 'neck', 'head'):
            raise ValueError(f"stage must be 'backbone', 'neck' or 'head', "
                             f'got {stage!r}')
        feats, _ = self.extract_feat(
            inputs, data_samples, stage='backbone' if stage == 'backbone'
            else 'neck')
        if stage != 'head':
            return feats
        return self.cls_head(feats.features, feats.key_lengths)

    def forward(self, inputs: torch.Tensor, data_samples: OptSampleList = None,
                mode: str = 'tensor', **kwargs):
        """Dispatch to ``loss`` / ``predict`` / ``tensor`` (see class doc)."""
        if mode == 'tensor':
            return self._forward(inputs, data_samples=data_samples, **kwargs)
        return super().forward(inputs, data_samples, mode=mode, **kwargs)
