"""A synthetic corpus the size and shape of CASME II, for timing LOSO runs.

CASME II has 255 clips of 26 subjects, 24 to 141 frames onset..offset at
200 fps (median about 61), with uneven subjects (2 to 34 clips) and the
emotion counts of :data:`CASME2_EMOTION_COUNTS`. :func:`casme2_sized_plan`
draws such a corpus' annotation (seeded, numpy only, instant);
:func:`render_casme2_sized` draws its frames straight into one packed uint8
tensor ``(ΣT, S, S, 3)`` on any device -- no JPEG is written or decoded.

The pixels are a closed-form function of the plan and seed (no random
number is drawn on the device), so every device renders the same clips up
to float rounding: a static texture per clip plus a brief Gaussian movement
whose place depends on the clip's class and whose peak is at the apex.
The corpus is meant for timing, not for judging accuracy.
"""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch

from mmaction.registry import DATASETS
from .base import MEBaseDataset

#: Emotion counts of the 255 CASME II clips (the coding sheet of 2014-05-08).
CASME2_EMOTION_COUNTS = dict(
    others=99, disgust=63, happiness=32, repression=27, surprise=25,
    sadness=7, fear=2)

#: Clips per subject shaped like CASME II's (26 subjects, 255 clips). An
#: approximation of the real per-subject counts: what matters for timing is
#: the spread of fold sizes, not which subject has which count.
CASME2_SUBJECT_CLIPS = (9, 13, 7, 5, 19, 5, 9, 3, 14, 14, 10, 12, 8, 4, 3, 4,
                        34, 3, 16, 11, 2, 2, 12, 12, 7, 17)

#: The paper4 class (positive, negative, surprise, others) of each emotion,
#: which picks the movement's place (see :func:`_movement_centres`).
_MOVEMENT_OF_EMOTION = dict(
    happiness=0, disgust=1, sadness=1, fear=1, surprise=2, others=3,
    repression=3)


def casme2_sized_plan(seed: int = 0,
                      subject_clips: Sequence[int] = CASME2_SUBJECT_CLIPS,
                      emotion_counts: Optional[Dict[str, int]] = None,
                      min_len: int = 24,
                      max_len: int = 141,
                      median_len: float = 61.0,
                      len_sigma: float = 0.35) -> List[dict]:
    """Annotation of a CASME II-sized corpus (one dict per clip).

    Clip lengths are log-normal around ``median_len``, clipped to
    ``[min_len, max_len]``; the shortest clip has ``min_len`` frames and the
    longest ``max_len`` (as in CASME II). Emotions are shuffled over the
    clips with ``emotion_counts`` (default: CASME II's, scaled to the number
    of clips when it differs).

    Returns:
        list[dict]: ``subject`` (``'casme2/subNN'``), ``clip_id``,
        ``emotion``, ``onset``, ``apex``, ``offset`` (absolute frame
        numbers, onset..offset inclusive), ``num_frames``, ``key``
        (``'<subject>/<clip_id>'``, the clip's name in the packed corpus).
    """
    if not subject_clips or min(subject_clips) < 1:
        raise ValueError('subject_clips needs at least one clip per subject, '
                         f'got {tuple(subject_clips)}')
    if not 1 <= min_len <= median_len <= max_len:
        raise ValueError('expected 1 <= min_len <= median_len <= max_len, got '
                         f'{min_len}, {median_len}, {max_len}')
    rng = np.random.default_rng(seed)
    n = int(sum(subject_clips))
    lengths = np.exp(rng.normal(np.log(median_len), len_sigma, n))
    lengths = np.clip(np.rint(lengths), min_len, max_len).astype(np.int64)
    if n >= 2:  # CASME II's extremes are in the corpus
        ends = rng.choice(n, 2, replace=False)
        lengths[ends] = (min_len, max_len)
    emotions = _emotion_list(n, emotion_counts or CASME2_EMOTION_COUNTS)
    emotions = [emotions[i] for i in rng.permutation(n)]
    onsets = rng.integers(1, 300, n)
    apex_at = rng.uniform(0.3, 0.6, n)
    plan, i = [], 0
    for s, count in enumerate(subject_clips):
        subject = f'casme2/sub{s + 1:02d}'
        for c in range(count):
            t, onset = int(lengths[i]), int(onsets[i])
            clip_id = f'EP{c + 1:02d}_{i:03d}'
            plan.append(dict(
                subject=subject, clip_id=clip_id, emotion=emotions[i],
                onset=onset, apex=onset + int(apex_at[i] * (t - 1)),
                offset=onset + t - 1, num_frames=t,
                key=f'{subject}/{clip_id}'))
            i += 1
    return plan


@DATASETS.register_module()
class CASME2SizedDataset(MEBaseDataset):
    """Annotation of the CASME II-sized synthetic corpus (no frame files).

    The records are :func:`casme2_sized_plan`'s; the frames exist only as a
    packed tensor, so use it inside ``DeviceCorpusDataset`` with the corpus
    spec ``dict(type='casme2_sized', ...)`` of the same plan arguments.
    Class setups, subject filters and LOSO work as for ``CASME2Dataset``.

    Args:
        plan (dict): keyword arguments of :func:`casme2_sized_plan`.
        **kwargs: :class:`MEBaseDataset` arguments (``class_setup``,
            ``subjects``, ``exclude_subjects``, ...).
    """
    CORPUS = 'casme2'
    FPS = 200.0

    def __init__(self, plan: Optional[dict] = None, **kwargs) -> None:
        self.plan_args = dict(plan or {})
        kwargs['check_frames'] = False  # there are no frame files
        super().__init__(**kwargs)

    def parse_records(self) -> List[dict]:
        where = f'casme2_sized_plan({self.plan_args})'
        return [dict(p, where=where, frame_dir=where, frame_name='{}')
                for p in casme2_sized_plan(**self.plan_args)]

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        for info in data_list:
            info.pop('frame_paths')  # placeholders: the frames are packed
        return data_list


def _emotion_list(n: int, counts: Dict[str, int]) -> List[str]:
    """``n`` emotions in the proportions of ``counts`` (exact when they sum
    to ``n``; largest remainders otherwise)."""
    names = list(counts)
    share = np.array([counts[k] for k in names], dtype=np.float64)
    share = share / share.sum() * n
    whole = np.floor(share).astype(np.int64)
    for j in np.argsort(-(share - whole), kind='stable')[:n - whole.sum()]:
        whole[j] += 1
    return [name for name, k in zip(names, whole) for _ in range(k)]


def _movement_centres(size: int) -> torch.Tensor:
    """(4, 2) float (y, x) centres of the four classes' movements: mouth
    corner, brow, eyes, mouth centre (fractions of the frame side)."""
    return torch.tensor([[0.72, 0.30], [0.28, 0.35], [0.40, 0.62],
                         [0.75, 0.55]]) * size


def render_casme2_sized(plan: Sequence[dict], size: int = 144,
                        seed: int = 0,
                        device: Union[str, torch.device] = 'cpu',
                        chunk_frames: int = 2048,
                        movement: float = 40.0) -> torch.Tensor:
    """Frames of every clip of ``plan``, packed in plan order.

    Args:
        plan (list[dict]): from :func:`casme2_sized_plan`.
        size (int): frame side ``S`` in pixels (the paper: 144).
        seed (int): seed of the per-clip textures.
        device: where the frames are drawn and stay.
        chunk_frames (int): frames drawn per step (bounds the float32
            working memory to ``chunk_frames * S * S * 4`` bytes a term).
        movement (float): grey levels of the movement at its apex.

    Returns:
        torch.Tensor: ``(ΣT, S, S, 3)`` uint8 RGB frames.
    """
    device = torch.device(device)
    # per-clip parameters from a seeded CPU generator (device independent)
    n = len(plan)
    gen = torch.Generator().manual_seed(int(seed))
    lengths = torch.tensor([p['num_frames'] for p in plan])
    freq = torch.rand(n, 3, 2, generator=gen) * 3 + 1  # cycles per frame
    phase = torch.rand(n, 3, generator=gen) * 2 * torch.pi
    amp = torch.rand(n, 3, generator=gen) * 20 + 10
    base = torch.rand(n, generator=gen) * 50 + 100
    move = torch.tensor([_MOVEMENT_OF_EMOTION.get(p['emotion'], 3)
                         for p in plan])
    apex = torch.tensor([(p['apex'] - p['onset']) for p in plan],
                        dtype=torch.float32)
    # per-frame: owning clip and time relative to the apex, in clip lengths
    clip = torch.repeat_interleave(torch.arange(n), lengths)
    starts = torch.cumsum(lengths, 0) - lengths
    t = torch.arange(int(lengths.sum())) - starts[clip]
    rel = (t - apex[clip]) / (0.12 * lengths[clip].float())
    profile = torch.exp(-rel ** 2)

    coords = (torch.arange(size, dtype=torch.float32, device=device) + 0.5)
    yy, xx = coords.view(-1, 1) / size, coords.view(1, -1) / size
    centres = _movement_centres(size).to(device)
    spread = 0.08 * size
    blobs = torch.exp(-((coords.view(1, -1, 1) - centres[:, 0, None, None])**2
                        + (coords.view(1, 1, -1) - centres[:, 1, None, None])
                        ** 2) / (2 * spread ** 2))  # (4, S, S)
    # one texture per clip (static face), then per frame only the movement
    f, ph, a = freq.to(device), phase.to(device), amp.to(device)
    texture = base.to(device).view(-1, 1, 1) + (a[..., None, None] * torch.cos(
        2 * torch.pi * (f[..., 0, None, None] * yy + f[..., 1, None, None] * xx)
        + ph[..., None, None])).sum(1)  # (n, S, S)
    tint = torch.tensor([1.08, 1.0, 0.9], device=device)
    out = torch.empty(int(lengths.sum()), size, size, 3, dtype=torch.uint8,
                      device=device)
    clip, move = clip.to(device), move.to(device)
    profile = profile.to(device)
    for lo in range(0, out.shape[0], chunk_frames):
        c = clip[lo:lo + chunk_frames]
        img = texture[c] + (movement * profile[lo:lo + chunk_frames]).view(
            -1, 1, 1) * blobs[move[c]]
        rgb = img.unsqueeze(-1) * tint
        out[lo:lo + chunk_frames] = rgb.round_().clamp_(0, 255).to(torch.uint8)
    return out
