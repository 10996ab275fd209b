"""Key-frame figures: a frame strip with the key frames marked, the β curve
(global correlation of every frame, AKMNet eq. 7) with the selection
threshold (mean β, eq. 8), and the annotated apex when known.
"""
import io
import os.path as osp
from typing import Optional, Sequence

import matplotlib

matplotlib.use('Agg')  # noqa: E402  (files only, no display)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

KEY_COLOR = '#d62728'
APEX_COLOR = '#2ca02c'


def savefig_atomic(fig, path: str, **kwargs) -> None:
    """``fig.savefig`` that leaves ``path`` complete or absent."""
    from mmakm.engine.fileio import atomic_write_bytes
    fmt = (osp.splitext(path)[1].lstrip('.') or 'png').lower()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, **kwargs)
    atomic_write_bytes(buf.getvalue(), path)


def _as_numpy(x, dtype=None):
    if x is None:
        return None
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def select_strip_positions(num_frames: int, key_frames: Sequence[int],
                           apex_pos: Optional[int] = None,
                           max_frames: int = 12) -> list:
    """Positions shown in the strip: key frames and apex first, then evenly
    spaced context frames, at most ``max_frames``, in temporal order."""
    must = sorted({int(k) for k in key_frames if 0 <= int(k) < num_frames})
    if apex_pos is not None and 0 <= apex_pos < num_frames:
        must = sorted(set(must) | {int(apex_pos)})
    if len(must) > max_frames:  # too many key frames: thin them evenly
        idx = np.linspace(0, len(must) - 1, max_frames).round().astype(int)
        keep = {must[i] for i in idx}
        if apex_pos is not None and apex_pos in must:
            keep.add(int(apex_pos))
        return sorted(keep)
    chosen = set(must)
    for p in np.linspace(0, num_frames - 1, max_frames).round().astype(int):
        if len(chosen) >= max_frames:
            break
        chosen.add(int(p))
    return sorted(chosen)


def plot_key_frames(frame_weights,
                    key_frames,
                    frame_numbers=None,
                    apex: Optional[int] = None,
                    frames: Optional[Sequence[np.ndarray]] = None,
                    fps: Optional[float] = None,
                    title: Optional[str] = None,
                    probs=None,
                    classes: Optional[Sequence[str]] = None,
                    out: Optional[str] = None,
                    max_strip: int = 12):
    """Draw one clip's key-frame figure; save it to ``out`` if given.

    Args:
        frame_weights: β of every fed frame, shape (T,).
        key_frames: 0-based positions (within the fed clip) of the key frames.
        frame_numbers: absolute frame number of every fed frame (x axis);
            defaults to 0..T-1.
        apex: annotated apex as an absolute frame number (None or <0: unknown).
            Marked at the nearest fed frame.
        frames: the fed frames (HxWx3 or HxW uint8, RGB) for the strip; the
            strip is omitted when None.
        probs / classes: class probabilities shown in the title.
    Returns:
        the matplotlib Figure (closed if saved).
    """
    beta = _as_numpy(frame_weights, np.float64).reshape(-1)
    T = len(beta)
    keys = sorted({int(k) for k in _as_numpy(key_frames, np.int64).reshape(-1)})
    fn = (np.arange(T) if frame_numbers is None else
          _as_numpy(frame_numbers, np.int64).reshape(-1))
    if len(fn) != T:
        raise ValueError(f'{len(fn)} frame numbers for {T} β values')
    apex_pos = None
    if apex is not None and int(apex) >= 0 and T:
        apex_pos = int(np.argmin(np.abs(fn - int(apex))))

    with_strip = frames is not None and len(frames) > 0
    fig = plt.figure(figsize=(12, 4.6 if with_strip else 3.4))
    if with_strip:
        if len(frames) != T:
            raise ValueError(f'{len(frames)} frames for {T} β values')
        grid = fig.add_gridspec(2, 1, height_ratios=[1.0, 1.6], hspace=0.2)
        shown = select_strip_positions(T, keys, apex_pos, max_strip)
        strip = grid[0].subgridspec(1, len(shown), wspace=0.05)
        for i, pos in enumerate(shown):
            ax = fig.add_subplot(strip[0, i])
            img = np.asarray(frames[pos])
            ax.imshow(img.squeeze(), cmap='gray' if img.ndim == 2 or
                      img.shape[-1] == 1 else None)
            ax.set_xticks([])
            ax.set_yticks([])
            color, width = '#999999', 1
            if pos in keys:
                color, width = KEY_COLOR, 3
            if pos == apex_pos:
                color, width = (APEX_COLOR, 3) if pos not in keys else (
                    KEY_COLOR, 4)
            for spine in ax.spines.values():
                spine.set_edgecolor(color)
                spine.set_linewidth(width)
            label = f'{fn[pos]}'
            if pos == apex_pos:
                label += ' apex'
            ax.set_title(label, fontsize=7,
                         color=KEY_COLOR if pos in keys else 'black')
        ax_beta = fig.add_subplot(grid[1])
    else:
        ax_beta = fig.add_subplot(1, 1, 1)

    ax_beta.plot(fn, beta, '-', color='#1f77b4', lw=1.2, label='β')
    if T:
        ax_beta.axhline(beta.mean(), color='#7f7f7f', ls='--', lw=0.8,
                        label='mean β (threshold)')
    if keys:
        ax_beta.scatter(fn[keys], beta[keys], color=KEY_COLOR, s=18, zorder=3,
                        label=f'key frames ({len(keys)}/{T})')
        best = keys[int(np.argmax(beta[keys]))]
        ax_beta.scatter([fn[best]], [beta[best]], marker='*', s=120,
                        color=KEY_COLOR, edgecolor='black', zorder=4,
                        label='max-β key frame')
    if apex_pos is not None:
        ax_beta.axvline(int(apex), color=APEX_COLOR, lw=1.5,
                        label=f'apex ({int(apex)})')
    ax_beta.set_xlabel('frame number')
    ax_beta.set_ylabel('β')
    ax_beta.legend(fontsize=7, loc='best')
    ax_beta.grid(alpha=0.3)

    head = title or ''
    if probs is not None:
        p = _as_numpy(probs, np.float64).reshape(-1)
        names = list(classes) if classes else [str(i) for i in range(len(p))]
        top = np.argsort(-p)[:3]
        head += ('  |  ' if head else '') + ', '.join(
            f'{names[i]} {p[i]:.2f}' for i in top)
    if apex_pos is not None and keys and fps:
        best = keys[int(np.argmax(beta[keys]))]
        d = abs(int(fn[best]) - int(apex))
        head += f'  |  |apex − max-β key| = {d} fr ({1000 * d / fps:.0f} ms)'
    if head:
        fig.suptitle(head, fontsize=9)
    if out:
        savefig_atomic(fig, out, dpi=100, bbox_inches='tight')
        plt.close(fig)
    return fig


def apex_offset_histogram(offsets_frames, fps: Optional[float] = None,
                          title: str = '', out: Optional[str] = None):
    """Histogram of |apex − max-β key frame| over clips (frames; ms on the
    top axis when ``fps`` is given: pass it only when every clip has that
    frame rate, e.g. ``keyframe_apex_stats(...)['fps']``)."""
    d = np.asarray(offsets_frames, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6, 3.4))
    if d.size:
        bins = np.arange(0, max(d.max(), 1) + 2) - 0.5
        if len(bins) > 40:
            bins = 40
        ax.hist(d, bins=bins, color='#1f77b4', alpha=0.8)
        ax.axvline(np.median(d), color=KEY_COLOR, ls='--',
                   label=f'median {np.median(d):.1f} fr')
        ax.legend(fontsize=8)
    ax.set_xlabel('|apex − max-β key frame| (frames)')
    ax.set_ylabel('clips')
    if fps:
        sec = ax.secondary_xaxis('top', functions=(lambda x: x * 1000 / fps,
                                                   lambda x: x * fps / 1000))
        sec.set_xlabel('ms')
    ax.set_title(title or f'apex vs key frames (n={d.size})', fontsize=9)
    fig.tight_layout()
    if out:
        savefig_atomic(fig, out, dpi=100)
        plt.close(fig)
    return fig
