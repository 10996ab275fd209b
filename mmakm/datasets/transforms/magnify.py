"""Linear motion magnification of a clip relative to its first frame."""
import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class MEMagnify(BaseTransform):
    """Amplify each frame's change from the clip's first fed frame.

    ``I'_t = I_t + alpha * (I_t - I_0)``, clipped to [0, 255]: a linear
    (Eulerian) stand-in for the phase-based video magnification the AKMNet
    paper applies offline (alpha = 15 there). Micro-movements of a few pixels
    become visible to a network trained from scratch; the neutral first
    frame is left unchanged. Run it right after :class:`MEFrameDecode`,
    before any spatial transform (all frames must be aligned).

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
        clip = np.stack(results['imgs']).astype(np.float32)  # (T, H, W, C)
        change = self.alpha * (clip - clip[:1])
        clip = clip + change if self.keep_frame else change + 128.0
        np.clip(clip, 0, 255, out=clip)
        results['imgs'] = list(np.rint(clip).astype(np.uint8))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(alpha={self.alpha}, '
                f'keep_frame={self.keep_frame})')
