"""Motion magnification transforms (linear and phase-based) of a clip
relative to its first fed frame. The math lives in
:mod:`mmakm.preprocessing.magnification`."""
from typing import Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from mmakm.preprocessing.magnification import linear_magnify, magnify_clip


@TRANSFORMS.register_module()
class MEMagnify(BaseTransform):
    """Amplify each frame's change from the clip's first fed frame.

    ``I'_t = I_t + alpha * (I_t - I_0)``, clipped to [0, 255]: linear
    (Eulerian) magnification, the cheap stand-in for the phase-based video
    magnification the AKMNet paper applies (:class:`MEPhaseMagnify`).
    Micro-movements of a few pixels become visible to a network trained from
    scratch; the neutral first frame is left unchanged. Run it right after
    :class:`MEFrameDecode`, before any spatial transform (all frames must be
    aligned).

    Required keys: ``imgs`` (list of HxWxC uint8). Modified keys: ``imgs``.

    ``keep_frame=False`` drops the frame itself and keeps only the scaled
    change on a mid-grey background, ``I'_t = 128 + alpha * (I_t - I_0)``
    (a difference image: the subject's appearance cancels out).

    Args:
        alpha (float): magnification factor (0 = identity).
        keep_frame (bool): add the change to the frame (magnification) or
            to mid-grey (difference image). Defaults to True.
    """

    def __init__(self, alpha: float = 5.0, keep_frame: bool = True) -> None:
        if alpha < 0:
            raise ValueError(f'alpha must be >= 0, got {alpha}')
        self.alpha = float(alpha)
        self.keep_frame = keep_frame

    def transform(self, results: dict) -> dict:
        if not self.alpha and self.keep_frame:
            return results
        clip = linear_magnify(np.stack(results['imgs']), self.alpha,
                              self.keep_frame)
        results['imgs'] = list(clip)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(alpha={self.alpha}, '
                f'keep_frame={self.keep_frame})')


@TRANSFORMS.register_module()
class MEPhaseMagnify(BaseTransform):
    """Phase-based motion magnification of a clip (online).

    The paper's magnification (α = 15), applied on the fly: every frame's
    local phase change from the first fed frame (the onset) is amplified by
    ``alpha`` (see :func:`mmakm.preprocessing.magnification.phase_magnify`).
    Offline preprocessing applies the same function once and caches the
    result, which is much cheaper for training; use this transform for
    inference on new clips or experiments. Run it right after
    :class:`MEFrameDecode`, before any spatial transform (frames must be
    aligned and full size: magnify, then crop).

    Required keys: ``imgs`` (list of HxWxC uint8, C = 1 or 3); ``fps`` when
    ``band`` is set. Modified keys: ``imgs``.

    Args:
        alpha (float): phase amplification (displacement δ → (1 + α)·δ).
            Defaults to 15 (paper).
        levels (int | str): pyramid scales, ``'auto'`` = all. Defaults to
            ``'auto'``.
        orientations (int): orientations per scale. Defaults to 4.
        sigma (float): amplitude-weighted phase smoothing std (coefficients).
            Defaults to 2.
        band (tuple[float, float], optional): temporal band-pass of the
            phase difference in Hz (uses the sample's ``fps``). Defaults to
            None (plain difference to the first frame).
        luma_only (bool): magnify the luma of RGB frames only. Defaults to
            True.
    """

    def __init__(self,
                 alpha: float = 15.0,
                 levels: Union[int, str] = 'auto',
                 orientations: int = 4,
                 sigma: float = 2.0,
                 band: Optional[Sequence[float]] = None,
                 luma_only: bool = True) -> None:
        if alpha < 0:
            raise ValueError(f'alpha must be >= 0, got {alpha}')
        self.magnify = dict(
            type='phase', alpha=float(alpha), levels=levels,
            orientations=orientations, sigma=sigma,
            band=None if band is None else tuple(band), luma_only=luma_only)

    def transform(self, results: dict) -> dict:
        clip = magnify_clip(np.stack(results['imgs']), self.magnify,
                            fps=results.get('fps'))
        results['imgs'] = list(clip)
        return results

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in self.magnify.items()
                         if k != 'type')
        return f'{self.__class__.__name__}({args})'
