"""Frames/s of phase-based and linear motion magnification on a CPU.

A CASME II-like clip (``--frames`` frames of ``--size`` px, RGB uint8: a
smooth random texture that drifts by a sub-pixel amount per frame) is
magnified with α = 15, and in the same run:

(a) linear magnification (``linear_magnify``, the cheap baseline),
(b) phase-based magnification of the luma (``phase_magnify``, default),
(c) phase-based magnification of R, G and B (``luma_only=False``),
(d) the steerable pyramid alone (build + reconstruct) on all frames in one
    batch, and (e) the same frame by frame — what batching saves.

Prints the median of ``--repeats`` timings as frames/s and the ratios b/a,
c/b and e/d.

Example::

    python tools/benchmarks/bench_magnification.py --frames 100 --size 144
"""
import argparse
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from benchmarks.timing import interleaved  # noqa: E402

from mmakm.preprocessing.magnification import (  # noqa: E402
    complex_pyramid, linear_magnify, phase_magnify)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--frames', type=int, default=100)
    p.add_argument('--size', type=int, default=144)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--threads', type=int, default=0,
                   help='torch intra-op threads (0: torch default)')
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args()


def make_clip(frames, size, seed):
    """(T, 3, H, W) uint8 drifting smooth texture."""
    g = torch.Generator().manual_seed(seed)
    spec = torch.randn(3, size, size, dtype=torch.complex64, generator=g)
    f = torch.fft.fftfreq(size)
    gain = torch.exp(-(f[:, None]**2 + f[None]**2) / (2 * 0.05**2))
    shifts = 0.05 * torch.arange(frames, dtype=torch.float32)
    phase = torch.exp(-2j * torch.pi * f[None, :] * shifts[:, None, None])
    tex = torch.fft.ifft2(spec[None] * gain * phase[:, None]).real
    tex = (tex - tex.mean()) / tex.std() * 40 + 128
    return tex.clamp(0, 255).round().to(torch.uint8)


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    clip = make_clip(args.frames, args.size, args.seed)
    frames = clip.permute(0, 2, 3, 1).contiguous().numpy()
    luma = clip.float().mean(1, keepdim=True)
    pyr = complex_pyramid(args.size, args.size)

    def pyramid_batched():
        pyr.recon_pyr(pyr(luma))

    def pyramid_per_frame():
        for t in range(luma.shape[0]):
            pyr.recon_pyr(pyr(luma[t:t + 1]))

    with torch.no_grad():
        # warm-up: pyramid masks, FFT plans of both batch shapes
        phase_magnify(clip[:4])
        pyramid_batched()
        pyr.recon_pyr(pyr(luma[:1]))
        cases = {
            'a': lambda: linear_magnify(frames, 15.0),
            'b': lambda: phase_magnify(clip, 15.0),
            'c': lambda: phase_magnify(clip, 15.0, luma_only=False),
            'd': pyramid_batched,
            'e': pyramid_per_frame,
        }
        timings = interleaved(cases, args.repeats, torch.device('cpu'))
        res = {k: t['median_s'] for k, t in timings.items()}
    n = args.frames
    names = {
        'a': 'linear magnification',
        'b': 'phase magnification, luma (default)',
        'c': 'phase magnification, R+G+B',
        'd': 'pyramid build+recon, all frames batched',
        'e': 'pyramid build+recon, frame by frame',
    }
    print(f'clip {n} frames x {args.size} px RGB uint8, alpha 15, '
          f'{pyr.num_scales} scales x {pyr.num_orientations} orientations, '
          f'torch threads {torch.get_num_threads()}, median of '
          f'{args.repeats}')
    print('| variant | s / clip | frames/s |')
    print('|---|---|---|')
    for k, name in names.items():
        print(f'| ({k}) {name} | {res[k]:.3f} | {n / res[k]:.1f} |')
    print(f"phase/linear time (b/a): {res['b'] / res['a']:.1f}x; "
          f"RGB/luma (c/b): {res['c'] / res['b']:.2f}x; "
          f"per-frame/batched pyramid (e/d): {res['e'] / res['d']:.2f}x")


if __name__ == '__main__':
    main()
