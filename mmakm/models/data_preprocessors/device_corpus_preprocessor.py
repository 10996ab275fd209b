"""Crop, flip and normalise clips of a device-resident corpus on the device."""
from typing import Optional

import torch
import torch.nn.functional as F

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmakm.datasets.device_corpus import load_corpus
from .me_data_preprocessor import MEDataPreprocessor


@MODELS.register_module()
class MEDeviceCorpusPreprocessor(MEDataPreprocessor):
    """Turn a batch of clip indices into packed, augmented frames.

    Input: ``dict(inputs=list of (1,) int64 clip indices, data_samples)``
    from :class:`~mmakm.datasets.DeviceCorpusDataset`. The corpus named by
    ``corpus`` is loaded once onto this preprocessor's device; per batch the
    clips' frames are gathered from it in one indexing op that also applies
    each clip's crop window and horizontal flip (one draw per clip, shared by
    its frames, as MMAction2's RandomCrop/Flip do), so no frame crosses the
    host->device link and no per-frame Python loop runs.

    Output as :class:`MEDataPreprocessor`: ``inputs`` ``(ΣT, C', h, h)``
    float, normalised, packed without padding; ``num_frames`` set on the data
    samples.

    Args:
        corpus (dict): corpus spec (see :mod:`mmakm.datasets.device_corpus`).
        crop_size (int): side ``h`` of the frames fed to the model.
        flip_ratio (float): probability that a training clip is mirrored.
        test_crop (str): at test time ``'resize'`` the whole ``S``-px frame
            to ``h`` (the paper: 144 -> 128) or take the ``'center'`` crop.
        channels_last (bool): return the frames in ``channels_last`` memory
            format (the gather yields that layout, so it costs no copy), for
            a backbone converted to it; else contiguous NCHW.
        **kwargs: :class:`MEDataPreprocessor` arguments (``mean``, ``std``,
            ``channels``, ...).
    """

    def __init__(self, corpus: dict, crop_size: int = 128,
                 flip_ratio: float = 0.5, test_crop: str = 'resize',
                 channels_last: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        if test_crop not in ('resize', 'center'):
            raise ValueError(f"test_crop must be 'resize' or 'center', got "
                             f'{test_crop!r}')
        if not 0 <= flip_ratio <= 1:
            raise ValueError(f'flip_ratio must be in [0, 1], got {flip_ratio}')
        self.corpus = dict(corpus)
        self.crop_size = int(crop_size)
        self.flip_ratio = float(flip_ratio)
        self.test_crop = test_crop
        self.memory_format = (torch.channels_last if channels_last else
                              torch.contiguous_format)

    def forward(self, data: dict, training: bool = False) -> dict:
        """Gather and augment the batch's clips (see class docstring).

        Args:
            data (dict): ``inputs`` (list of ``(1,)`` int64 clip indices or a
                ``(B,)`` tensor) and ``data_samples``.
            training (bool): random crop + flip when True, else ``test_crop``.

        Returns:
            dict: ``inputs`` ``(ΣT, C', h, h)`` float and ``data_samples``.
        """
        inputs = data['inputs']
        clips = (torch.cat([c.reshape(-1) for c in inputs]) if isinstance(
            inputs, (list, tuple)) else inputs.reshape(-1)).long().cpu()
        samples = self.cast_data(data.get('data_samples', None))
        if samples is None:
            samples = [ActionDataSample() for _ in range(len(clips))]
        if len(samples) != len(clips):
            raise ValueError(f'{len(clips)} clip indices but {len(samples)} '
                             'data samples.')
        corpus = load_corpus(self.corpus, self._device)
        if int(clips.max()) >= len(corpus) or int(clips.min()) < 0:
            raise IndexError(f'clip index out of range 0..{len(corpus) - 1} '
                             f'of corpus {self.corpus}: {clips.tolist()}')
        rows, owner = corpus.frame_indices(clips)
        frames = self._gather(corpus.frames, rows, owner, len(clips),
                              training)
        for sample, n in zip(samples, corpus.lengths[clips].tolist()):
            sample.set_metainfo(dict(num_frames=n))
        packed, samples = self.preprocess(frames, samples)
        return dict(inputs=packed.contiguous(memory_format=self.memory_format),
                    data_samples=samples)

    def _gather(self, store: torch.Tensor, rows: torch.Tensor,
                owner: torch.Tensor, batch: int,
                training: bool) -> torch.Tensor:
        """``(N, C, h, h)`` frames of ``rows`` of ``store`` ``(ΣT, S, S, C)``.

        Training: one random ``h``-crop window and flip per clip (``owner``
        maps each row to its clip), drawn from torch's seeded CPU generator.
        """
        size, h = store.shape[1], self.crop_size
        if h > size:
            raise ValueError(f'crop_size {h} exceeds the corpus frames '
                             f'({size} px)')
        device = store.device
        if not training and self.test_crop == 'resize':
            x = store[rows.to(device, non_blocking=True)].permute(0, 3, 1, 2)
            if h == size:
                return x
            return F.interpolate(x.float(), size=(h, h), mode='bilinear',
                                 align_corners=False, antialias=True)
        if training:
            top = torch.randint(0, size - h + 1, (batch,))
            left = torch.randint(0, size - h + 1, (batch,))
            flip = torch.rand(batch) < self.flip_ratio
        else:
            top = left = torch.full((batch,), (size - h) // 2)
            flip = torch.zeros(batch, dtype=torch.bool)
        step = torch.arange(h)
        ys = top[:, None] + step  # (B, h)
        xs = torch.where(flip[:, None], left[:, None] + h - 1 - step,
                         left[:, None] + step)
        idx = [t.to(device, non_blocking=True) for t in (
            rows[:, None, None], ys[owner][:, :, None], xs[owner][:, None, :])]
        return store[idx[0], idx[1], idx[2]].permute(0, 3, 1, 2)
