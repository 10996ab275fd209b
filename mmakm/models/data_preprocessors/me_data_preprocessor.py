"""Data preprocessor for variable-length micro-expression clips."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseDataPreprocessor

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

#: ITU-R BT.601 luma weights, applied to RGB channels.
_LUMA_RGB = (0.299, 0.587, 0.114)


def clip_lengths(data_samples: Sequence, total: Optional[int] = None,
                 device: Union[str, torch.device] = 'cpu') -> torch.Tensor:
    """Read ``num_frames`` of every data sample.

    Args:
        data_samples (Sequence[ActionDataSample]): samples carrying the
            metainfo ``num_frames`` (set by :class:`MEDataPreprocessor`).
        total (int, optional): number of packed frames; when given, the
            lengths must sum to it.
        device: device of the returned tensor.

    Returns:
        torch.Tensor: ``(B,)`` int64 clip lengths.
    """
    lengths = []
    for i, sample in enumerate(data_samples):
        n = sample.metainfo.get('num_frames', None) if hasattr(
            sample, 'metainfo') else None
        if n is None:
            raise ValueError(
                f'data_samples[{i}] carries no `num_frames` metainfo; pass '
                'the batch through MEDataPreprocessor (or set it yourself) so the '
                'packed frames can be split into clips.')
        n = int(n)
        if n <= 0:
            raise ValueError(f'data_samples[{i}] has num_frames={n}; '
                             'zero-length clips are not allowed.')
        lengths.append(n)
    if total is not None and sum(lengths) != total:  # on the host: no sync
        raise ValueError(
            f'clip lengths {lengths} (num_frames of the data '
            f'samples) sum to {sum(lengths)}, but the packed input '
            f'holds {total} frames.')
    return torch.tensor(lengths, dtype=torch.long).to(device,
                                                      non_blocking=True)


def split_clip_tensor(inputs: torch.Tensor, data_samples: Optional[Sequence]
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Packed frames ``(ΣT, C, H, W)`` and clip lengths ``(B,)`` of a tensor
    batch.

    Args:
        inputs (torch.Tensor): ``(N, T, C, H, W)`` equal-length clips, or
            ``(ΣT, C, H, W)`` packed frames (one clip without
            ``data_samples``, else split by their ``num_frames``).
        data_samples (Sequence, optional): one sample per clip.

    Returns:
        tuple: the ``(ΣT, C, H, W)`` frames and int64 lengths on the host.
    """
    if inputs.dim() == 5:
        n, t = inputs.shape[:2]
        if t == 0:
            raise ValueError('zero-length clips are not allowed.')
        if data_samples is not None and len(data_samples) != n:
            raise ValueError(f'{n} clips but {len(data_samples)} data '
                             'samples.')
        return inputs.flatten(0, 1), torch.full((n, ), t, dtype=torch.long)
    if inputs.dim() != 4:
        raise ValueError('expected (N, T, C, H, W) clips or packed '
                         f'(ΣT, C, H, W) frames, got shape '
                         f'{tuple(inputs.shape)}.')
    if data_samples is None:  # one clip
        if inputs.shape[0] == 0:
            raise ValueError('zero-length clips are not allowed.')
        return inputs, torch.tensor([inputs.shape[0]])
    return inputs, clip_lengths(data_samples, total=inputs.shape[0])


@MODELS.register_module()
class MEDataPreprocessor(BaseDataPreprocessor):
    """Pack variable-length clips into one frame tensor, without padding.

    The input is ``dict(inputs=list of (T_i, C, H, W) tensors (usually uint8),
    data_samples=list)``, as produced by ``FormatShape('NCHW')`` +
    ``PackActionInputs`` for one clip per sample. The output is
    ``dict(inputs=(ΣT_i, C', H, W) float32, data_samples)``; each data sample
    gets the metainfo ``num_frames = T_i``. No padding frame is created, so
    nothing downstream (BatchNorm statistics included) ever sees one.

    Also accepted: an already packed ``(ΣT, C, H, W)`` tensor whose data
    samples carry ``num_frames``, or an equal-length batch ``(N, T, C, H, W)``.

    Steps, in order: BGR↔RGB swap (``to_rgb``), channel handling
    (``channels``), normalisation ``(x - mean) / std``.

    Args:
        mean (Sequence[float], optional): per-channel mean of the output
            channels (length ``C'`` or 1). Defaults to None (no normalisation).
        std (Sequence[float], optional): per-channel std, like ``mean``.
        to_rgb (bool): reverse the channel order of 3-channel inputs (BGR↔RGB)
            like ``ActionDataPreprocessor``. Defaults to False.
        channels (int, optional): output channel count. ``1`` turns 3-channel
            (RGB) frames to gray with BT.601 luma weights; ``3`` replicates
            1-channel frames. None keeps the input channels.
        to_float32 (bool): cast to float32 when not normalising.
        non_blocking (bool): copy the clips to the model's device
            asynchronously (with ``pin_memory=True`` in the data loader,
            host→GPU copies then overlap with compute). The clips travel
            as loaded (uint8: 4× fewer bytes than float) and are packed
            and converted on the device.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 to_rgb: bool = False,
                 channels: Optional[int] = None,
                 to_float32: bool = True,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if (mean is None) != (std is None):
            raise ValueError('MEDataPreprocessor needs both `mean` and `std` '
                             '(or neither).')
        if channels not in (None, 1, 3):
            raise ValueError(f'channels must be None, 1 or 3, got {channels}')
        self.to_rgb = to_rgb
        self.channels = channels
        self.to_float32 = to_float32
        self._enable_normalize = mean is not None
        if self._enable_normalize:
            self.register_buffer(
                'mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1),
                False)
            self.register_buffer(
                'std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1),
                False)

    def forward(self, data: dict, training: bool = False) -> dict:
        """Pack, convert and normalise one batch.

        Args:
            data (dict): ``inputs`` (list of ``(T_i, C, H, W)`` tensors, or
                a ``(ΣT, C, H, W)`` / ``(N, T, C, H, W)`` tensor) and
                ``data_samples`` (list of ActionDataSample or None).
            training (bool): unused (no batch augmentation).

        Returns:
            dict: ``inputs`` ``(ΣT, C', H, W)`` float, ``data_samples`` with
            ``num_frames`` metainfo.
        """
        data = self.cast_data(data)
        inputs, data_samples = self.preprocess(
            data['inputs'], data.get('data_samples', None))
        data['inputs'] = inputs
        data['data_samples'] = data_samples
        return data

    def preprocess(self, inputs: Union[torch.Tensor, List[torch.Tensor]],
                   data_samples: Optional[list]) -> Tuple[torch.Tensor, list]:
        """Pack the clips and record their lengths (see class docstring)."""
        packed, lengths = self._pack(inputs, data_samples)
        if data_samples is None:
            data_samples = [ActionDataSample() for _ in lengths]
        for sample, n in zip(data_samples, lengths):
            sample.set_metainfo(dict(num_frames=int(n)))

        if self.to_rgb:
            if packed.shape[1] != 3:
                raise ValueError('to_rgb=True needs 3-channel frames, got '
                                 f'{packed.shape[1]} channels.')
            packed = packed.flip(1)
        packed = self._convert_channels(packed)
        if self._enable_normalize:
            if self.mean.shape[0] not in (1, packed.shape[1]):
                raise ValueError(
                    f'mean/std have {self.mean.shape[0]} values but the '
                    f'frames have {packed.shape[1]} channels.')
            packed = (packed.float() - self.mean) / self.std
        elif self.to_float32:
            packed = packed.float()
        return packed, data_samples

    def _pack(self, inputs, data_samples) -> Tuple[torch.Tensor, List[int]]:
        if isinstance(inputs, (list, tuple)):
            if len(inputs) == 0:
                raise ValueError('MEDataPreprocessor got an empty batch.')
            if data_samples is not None and len(data_samples) != len(inputs):
                raise ValueError(f'{len(inputs)} clips but '
                                 f'{len(data_samples)} data samples.')
            lengths = []
            for i, clip in enumerate(inputs):
                if not isinstance(clip, torch.Tensor) or clip.dim() != 4:
                    shape = tuple(clip.shape) if isinstance(
                        clip, torch.Tensor) else type(clip).__name__
                    raise ValueError(
                        f'clip {i} must be a (T, C, H, W) tensor, got {shape} '
                        "(use FormatShape(input_format='NCHW') with one clip "
                        'per sample).')
                if clip.shape[0] == 0:
                    raise ValueError(f'clip {i} has zero frames.')
                if clip.shape[1:] != inputs[0].shape[1:]:
                    raise ValueError(
                        f'clip {i} has frame shape {tuple(clip.shape[1:])}, '
                        f'clip 0 has {tuple(inputs[0].shape[1:])}; all frames '
                        'of a batch must share (C, H, W).')
                lengths.append(clip.shape[0])
            return torch.cat(list(inputs), dim=0), lengths
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f'unsupported inputs type {type(inputs)}')
        if inputs.dim() in (4, 5):
            packed, lengths = split_clip_tensor(inputs, data_samples)
            return packed, lengths.tolist()
        raise ValueError(
            'inputs must be a list of (T, C, H, W) clips, a packed '
            f'(ΣT, C, H, W) tensor or (N, T, C, H, W); got shape '
            f'{tuple(inputs.shape)}.')

    def _convert_channels(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        if self.channels is None or self.channels == c:
            return x
        if self.channels == 1 and c == 3:
            w = torch.tensor(_LUMA_RGB, dtype=torch.float32,
                             device=x.device).view(1, 3, 1, 1)
            return (x.float() * w).sum(1, keepdim=True)
        if self.channels == 3 and c == 1:
            return x.expand(-1, 3, -1, -1)
        raise ValueError(f'cannot convert {c}-channel frames to '
                         f'{self.channels} channels.')
