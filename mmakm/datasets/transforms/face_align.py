"""Face alignment (and optional stabilisation) as a pipeline transform."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class MEFaceAlign(BaseTransform):
    """Align the decoded clip on the fly, as ``tools/preprocess.py`` does.

    One similarity transform per clip from the first fed frame's (the
    onset's) eye centres: eye line horizontal, fixed inter-ocular distance,
    face centred, ``size`` x ``size`` output; optionally every frame
    rigidly stabilised to the first (OpenCV ECC). The same code as the
    offline cache (:func:`mmakm.preprocessing.preprocess_clip`), so both
    give the same pixels. Put it right after :class:`MEFrameDecode`.

    Required keys: ``imgs`` (list of (H, W, 3) uint8 RGB). Modified keys:
    ``imgs`` (list of (size, size, 3)), ``img_shape``. Added keys:
    ``face_matrix`` ((2, 3) frame -> crop).

    Args:
        size, margin, eye_distance, ref_frames, detector, min_confidence:
            see :data:`mmakm.preprocessing.FACE_DEFAULTS`.
        stabilise (dict | bool, optional): stabilisation options (True:
            defaults); None: off.
        on_no_face (str): ``'error'`` (default: raise, naming the clip) or
            ``'box'`` (fall back to OpenCV's Haar box, no rotation).
    """

    def __init__(self, size: int = 144, margin: float = 0.1,
                 eye_distance: Optional[float] = None, ref_frames: int = 1,
                 detector: str = 'landmarks', min_confidence: float = 0.5,
                 stabilise=None, on_no_face: str = 'error') -> None:
        if on_no_face not in ('error', 'box'):
            raise ValueError(f"on_no_face must be 'error' or 'box', got "
                             f'{on_no_face!r}')
        self.face = dict(size=size, margin=margin, eye_distance=eye_distance,
                         ref_frames=ref_frames, detector=detector,
                         min_confidence=min_confidence)
        self.stabilise = {} if stabilise is True else (stabilise or None)
        self.on_no_face = on_no_face
        self._landmarker = None  # built per worker, on first use

    def transform(self, results: dict) -> dict:
        from mmakm.preprocessing import (FaceLandmarker, NoFaceError,
                                         preprocess_clip)
        if self._landmarker is None and self.face['detector'] == 'landmarks':
            self._landmarker = FaceLandmarker(self.face['min_confidence'])
        frames = np.stack(results['imgs'])
        numbers = results.get('frame_numbers_fed')  # to name frames
        if numbers is not None and len(numbers) != len(frames):
            numbers = None
        try:
            out, info = preprocess_clip(frames, self.face, self.stabilise,
                                        landmarker=self._landmarker,
                                        measure_motion=False,
                                        frame_numbers=numbers)
        except NoFaceError as exc:
            if self.on_no_face == 'error':
                raise NoFaceError(f"clip {results.get('clip_id')} of "
                                  f"{results.get('subject')}: {exc}") from exc
            out, info = preprocess_clip(frames, dict(self.face, detector='box'),
                                        self.stabilise, measure_motion=False)
        results['imgs'] = list(out)
        results['img_shape'] = out.shape[1:3]
        results['face_matrix'] = np.asarray(info['matrix'])
        return results

    def __getstate__(self):
        state = dict(self.__dict__)
        state['_landmarker'] = None
        return state

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(face={self.face}, '
                f'stabilise={self.stabilise}, on_no_face={self.on_no_face!r})')
