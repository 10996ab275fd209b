"""Where key frames fall relative to what happens in a synthetic clip.

The synthetic corpus records, per frame, the class-defining movement, the
blink closure and the head position (``mmakm.datasets.synthetic.load_truth``).
:func:`keyframe_nuisance_stats` asks of a model's predictions: do the key
frames (and high β) follow the movement, or blinks, or head motion?
"""
from typing import Dict, Iterable, List

import numpy as np


def _ranks(x: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(x, kind='stable'), kind='stable').astype(
        np.float64)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Rank correlation (NaN when either side is constant)."""
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float('nan')
    ra, rb = _ranks(a), _ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def clip_key(sample: dict) -> str:
    """``sub01/EP03_02`` from a sample's subject (``casme2/sub01``) and clip."""
    return f"{str(sample['subject']).split('/')[-1]}/{sample['clip_id']}"


def keyframe_nuisance_stats(samples: Iterable[dict], truth: Dict[str, dict],
                            blink_closed: float = 0.5) -> dict:
    """Key frames vs the generator's ground truth, pooled over clips.

    Per fed frame: movement = displacement of the moving feature (px); in
    movement = at least half the clip's peak displacement; blink = eyelid
    closure > ``blink_closed``; head = head displacement (px) from the first
    fed frame (the reference of ``MEMagnify``).

    Raises:
        ValueError: a clip fed frames its ground truth does not have (the
            predictions are of another corpus).

    Returns:
        ``num_clips``; ``key_in_movement`` / ``fed_in_movement`` (share of
        key frames / of all fed frames in the movement: equal shares mean
        the selection ignores the movement); ``key_in_blink`` /
        ``fed_in_blink`` (same, clips with a blink only);
        ``key_head_px`` / ``fed_head_px`` (mean head displacement); mean
        per-clip rank correlation of β with the movement
        (``rho_beta_movement``), the blink (``rho_beta_blink``, clips with a
        blink) and the head displacement (``rho_beta_head``).
    """
    acc: Dict[str, List] = {k: [] for k in (
        'key_mv', 'fed_mv', 'key_bl', 'fed_bl', 'key_head', 'fed_head',
        'rho_mv', 'rho_bl', 'rho_head')}
    n = 0
    for s in samples:
        t = truth.get(clip_key(s)) if s.get('clip_id') else None
        if t is None or s.get('key_frames') is None or \
                s.get('frame_weights') is None:
            continue
        idx = np.asarray(s['frame_numbers_fed'], np.int64) - t['first']
        n_truth = len(t['movement_px'])
        if idx.size and (idx.min() < 0 or idx.max() >= n_truth):
            # a clip of the same name in another corpus (another seed/size)
            raise ValueError(
                f'clip {clip_key(s)}: frames {idx.min() + t["first"]}..'
                f'{idx.max() + t["first"]} were fed, its ground truth covers '
                f'{t["first"]}..{t["first"] + n_truth - 1}: the predictions '
                'were made on another corpus than this ground truth')
        beta = np.asarray(s['frame_weights'], np.float64)
        key = np.zeros(len(idx), bool)
        key[np.asarray(s['key_frames'], np.int64)] = True
        mv = np.asarray(t['movement_px'])[idx]
        blink = np.asarray(t['blink'])[idx]
        dx = np.asarray(t['head_dx'])[idx]
        dy = np.asarray(t['head_dy'])[idx]
        head = np.hypot(dx - dx[0], dy - dy[0])
        in_mv = mv >= 0.5 * mv.max() if mv.max() > 0 else np.zeros_like(key)
        n += 1
        acc['key_mv'] += in_mv[key].tolist()
        acc['fed_mv'] += in_mv.tolist()
        acc['key_head'] += head[key].tolist()
        acc['fed_head'] += head.tolist()
        acc['rho_mv'].append(spearman(beta, mv))
        acc['rho_head'].append(spearman(beta, head))
        if blink.max() > blink_closed:
            closed = blink > blink_closed
            acc['key_bl'] += closed[key].tolist()
            acc['fed_bl'] += closed.tolist()
            acc['rho_bl'].append(spearman(beta, blink))

    def mean(k):
        v = np.asarray(acc[k], np.float64)
        v = v[~np.isnan(v)]
        return float(v.mean()) if v.size else float('nan')

    return dict(num_clips=n,
                key_in_movement=mean('key_mv'),
                fed_in_movement=mean('fed_mv'),
                key_in_blink=mean('key_bl'), fed_in_blink=mean('fed_bl'),
                key_head_px=mean('key_head'), fed_head_px=mean('fed_head'),
                rho_beta_movement=mean('rho_mv'),
                rho_beta_blink=mean('rho_bl'),
                rho_beta_head=mean('rho_head'))
