"""MESampleFrames: which frames of the onset..offset clip are fed."""
import os.path as osp
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class MESampleFrames(BaseTransform):
    """Choose the frames of a clip (positions into ``frame_numbers``).

    ``mode='clip'`` (default) samples from the whole clip, as chosen by the
    other arguments:

    * default -- every frame onset..offset (the paper), optionally every
      ``stride``-th one and at most ``max_len`` of them (evenly spaced);
      ``num_clips = 1``, ``clip_len = len(frame_inds)``;
    * ``num_frames=K`` -- fixed-length temporal resampling to K frames
      evenly spaced over the clip (nearest frame; frames repeat when the
      clip is shorter): the norm16..norm128 baselines, and the fixed-T input
      of I3D-style models (``num_clips=1, clip_len=K``, FormatShape NCTHW);
    * ``num_clips=N`` (``clip_len=L``, default 1) -- TSN-style segments: the
      clip is cut into N equal segments and L consecutive frames are taken
      from each (random start in training, centred in test mode);
      ``num_clips=N, clip_len=L`` for FormatShape NCHW / NCTHW.

    ``mode='apex'`` feeds the annotated apex frame alone (the "single apex
    frame" baselines); a clip without an apex label, or whose apex is not
    one of its frames, is an error naming the clip (datasets drop and report
    such clips with ``require_apex=True``).

    ``mode='max_beta'`` feeds the max-β key frame of the clip as predicted
    by a trained AKMNet (the "single max-β key frame" baselines): the frame
    is read from ``predictions``, a ``tools/test.py --dump`` pickle of that
    AKMNet over the clips (read with
    :func:`mmakm.loso.report.load_predictions`), matched by (corpus,
    subject, clip_id). ``{corpus}`` in the path becomes the clip's corpus;
    under LOSO, ``{fold}`` becomes the fold's folder name
    (``fold_<subject>``), so each fold reads the predictions of the same
    fold's AKMNet (``tools/misc/dump_fold_keyframes.py`` writes them). A
    clip missing from the dump, or a dump without key frames, is an error
    naming the clip and the file.

    Adds ``frame_inds`` (int64), ``clip_len``, ``num_clips``,
    ``frame_numbers_fed`` (absolute frame numbers of the fed frames).
    """

    MODES = ('clip', 'apex', 'max_beta')

    def __init__(self, stride: int = 1, max_len: Optional[int] = None,
                 num_frames: Optional[int] = None,
                 num_clips: Optional[int] = None, clip_len: int = 1,
                 random_offset: bool = False, test_mode: bool = False,
                 mode: str = 'clip', predictions: Optional[str] = None):
        if mode not in self.MODES:
            raise ValueError(f'mode must be one of {self.MODES}, got '
                             f'{mode!r}')
        if (mode == 'max_beta') != (predictions is not None):
            raise ValueError("mode='max_beta' needs `predictions` (an "
                             'AKMNet prediction dump) and no other mode '
                             'takes it')
        if mode != 'clip' and (stride != 1 or max_len is not None
                               or num_frames is not None
                               or num_clips is not None or clip_len != 1):
            raise ValueError(f'mode={mode!r} feeds one frame: stride, '
                             'max_len, num_frames, num_clips and clip_len '
                             'apply to mode=\'clip\' only')
        if stride < 1:
            raise ValueError(f'stride must be >= 1, got {stride}')
        if max_len is not None and max_len < 1:
            raise ValueError(f'max_len must be >= 1, got {max_len}')
        if num_frames is not None and num_clips is not None:
            raise ValueError('give num_frames or num_clips, not both')
        self.stride = stride
        self.max_len = max_len
        self.num_frames = num_frames
        self.num_clips = num_clips
        self.clip_len = clip_len
        self.random_offset = random_offset
        self.test_mode = test_mode
        self.mode = mode
        self.predictions = predictions
        self._key_frames: Dict[str, Dict[tuple, int]] = {}  # path -> table

    def _indices(self, total: int):
        if self.num_frames is not None:
            inds = np.round(np.linspace(0, total - 1, self.num_frames))
            return inds.astype(np.int64), 1, self.num_frames
        if self.num_clips is not None:
            n, length = self.num_clips, self.clip_len
            bounds = np.linspace(0, total, n + 1)
            out = []
            for i in range(n):
                lo, hi = bounds[i], bounds[i + 1]
                if self.test_mode:
                    start = int(np.floor((lo + hi - length) / 2))
                else:
                    span = max(int(np.floor(hi - length - lo)), 0)
                    start = int(np.floor(lo)) + np.random.randint(span + 1)
                start = min(max(start, 0), max(total - length, 0))
                out.append(np.minimum(start + np.arange(length), total - 1))
            return np.concatenate(out).astype(np.int64), n, length
        start = 0
        if self.random_offset and not self.test_mode and self.stride > 1:
            start = np.random.randint(min(self.stride, total))
        inds = np.arange(start, total, self.stride, dtype=np.int64)
        if self.max_len is not None and len(inds) > self.max_len:
            pick = np.round(np.linspace(0, len(inds) - 1, self.max_len))
            inds = inds[pick.astype(np.int64)]
        return inds, 1, len(inds)

    @staticmethod
    def _apex_index(results: dict) -> np.ndarray:
        """``(1,)`` position of the apex frame within ``frame_numbers``."""
        clip = f"clip {results.get('clip_id')} ({results.get('subject')})"
        apex = results.get('apex', -1)
        if apex is None or int(apex) < 0:
            raise ValueError(f"{clip} has no apex label; mode='apex' needs "
                             'one (use a corpus with apex labels)')
        numbers = np.asarray(results['frame_numbers'])
        pos = np.flatnonzero(numbers == int(apex))
        if pos.size == 0:
            raise ValueError(
                f'{clip}: apex frame {int(apex)} is not one of its frames '
                f'{int(numbers[0])}..{int(numbers[-1])}')
        return pos[:1].astype(np.int64)

    def _max_beta_frames(self, path: str) -> Dict[tuple, int]:
        """(corpus, subject, clip_id) -> absolute max-β key frame number."""
        if path in self._key_frames:
            return self._key_frames[path]
        from mmakm.evaluation.functional import max_beta_key_frame
        from mmakm.loso.report import load_predictions
        if '{fold}' in path:
            raise ValueError(
                f'predictions {path!r} holds the {{fold}} placeholder, which '
                'tools/loso.py fills per fold; outside LOSO give the file')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'predictions {path} not found: the max-β frames come from '
                "a trained AKMNet's dump over these clips "
                '(tools/misc/dump_fold_keyframes.py under LOSO)')
        table = {}
        for i, p in enumerate(load_predictions(path)):
            key = (p.get('corpus'), p.get('subject'), p.get('clip_id'))
            if None in key:
                raise ValueError(f'{path}: prediction {i} lacks corpus, '
                                 'subject or clip_id')
            for need in ('key_frames', 'frame_weights', 'frame_numbers_fed'):
                if p.get(need) is None:
                    raise ValueError(
                        f'{path}: prediction {i} ({key[2]}, {key[1]}) has no '
                        f'{need}; expected an AKMNet dump')
            pos = max_beta_key_frame(p['key_frames'], p['frame_weights'])
            number = int(p['frame_numbers_fed'][pos])
            if table.setdefault(key, number) != number:
                raise ValueError(f'{path}: clip {key[2]} ({key[1]}) appears '
                                 'twice with different max-β frames')
        self._key_frames[path] = table
        return table

    def _max_beta_index(self, results: dict) -> np.ndarray:
        """``(1,)`` position of the clip's max-β key frame (predictions)."""
        clip = f"clip {results.get('clip_id')} ({results.get('subject')})"
        path = self.predictions.replace('{corpus}',
                                        str(results.get('corpus')))
        table = self._max_beta_frames(path)
        key = (results.get('corpus'), results.get('subject'),
               results.get('clip_id'))
        if key not in table:
            raise ValueError(
                f'{clip} is not in the predictions {path} ({len(table)} '
                'clips): its max-β frame needs a prediction of this clip by '
                "the same fold's AKMNet")
        numbers = np.asarray(results['frame_numbers'])
        pos = np.flatnonzero(numbers == table[key])
        if pos.size == 0:
            raise ValueError(
                f'{clip}: max-β frame {table[key]} of {path} is not one of '
                f'its frames {int(numbers[0])}..{int(numbers[-1])}')
        return pos[:1].astype(np.int64)

    def transform(self, results: dict) -> dict:
        total = int(results['total_frames'])
        if total < 1:
            raise ValueError(f"clip {results.get('clip_id')} "
                             f"({results.get('subject')}) has no frames")
        if self.mode == 'apex':
            inds, num_clips, clip_len = self._apex_index(results), 1, 1
        elif self.mode == 'max_beta':
            inds, num_clips, clip_len = self._max_beta_index(results), 1, 1
        else:
            inds, num_clips, clip_len = self._indices(total)
        results['frame_inds'] = inds
        results['num_clips'] = num_clips
        results['clip_len'] = clip_len
        numbers = results.get('frame_numbers')
        if numbers is not None:
            results['frame_numbers_fed'] = np.asarray(numbers)[inds]
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(mode={self.mode!r}, '
                f'predictions={self.predictions!r}, '
                f'stride={self.stride}, '
                f'max_len={self.max_len}, num_frames={self.num_frames}, '
                f'num_clips={self.num_clips}, clip_len={self.clip_len}, '
                f'test_mode={self.test_mode})')
