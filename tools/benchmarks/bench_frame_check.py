"""Speed of the frame integrity check against decoding every frame.

Generates the built-in synthetic corpus (default 6 subjects x 8 clips, 96 px
frames) into a temporary folder, or uses ``--root``, and measures in one run
the median of ``--repeats`` passes over all its clips of:

(a) ``check_clip_frames(paths)``: header + end-of-file check of every frame
    (what the datasets run at load time),
(b) ``check_clip_frames(paths, decode=True)``: (a) plus an OpenCV decode,
(c) OpenCV decode alone (``cv2.imread`` of every frame), the baseline.

Prints frames/s of each and the ratios a/c and b/c. The page cache is warm
after the first pass (a cold disk is slower for both).

Example::

    python tools/benchmarks/bench_frame_check.py --repeats 5
"""
import argparse
import collections
import glob
import os.path as osp
import statistics
import tempfile
import time

import cv2

from mmakm.datasets.integrity import check_clip_frames


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--root', help='corpus in CASME II layout (default: a '
                   'fresh synthetic corpus)')
    p.add_argument('--size', type=int, default=96,
                   help='frame size of the generated corpus')
    p.add_argument('--repeats', type=int, default=5)
    return p.parse_args()


def clips_of(root: str) -> list:
    clips = collections.defaultdict(list)
    for path in sorted(glob.glob(osp.join(root, '**', '*.jpg'),
                                 recursive=True)):
        clips[osp.dirname(path)].append(path)
    return list(clips.values())


def timed(fn, clips, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for paths in clips:
            fn(paths)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(root: str, repeats: int) -> None:
    clips = clips_of(root)
    n = sum(map(len, clips))
    if not n:
        raise SystemExit(f'no .jpg frames under {root}')
    timed(check_clip_frames, clips, 1)  # warm the page cache
    a = timed(check_clip_frames, clips, repeats)
    b = timed(lambda p: check_clip_frames(p, decode=True), clips, repeats)
    c = timed(lambda p: [cv2.imread(x) for x in p], clips, repeats)
    print(f'{n} frames in {len(clips)} clips ({root})')
    for name, t in (('header check', a), ('header check + decode', b),
                    ('cv2.imread (baseline)', c)):
        print(f'  {name:<24s} {t:8.3f} s  {n / t:10.0f} frames/s')
    print(f'  ratio header/decode {a / c:.3f} ({c / a:.1f}x faster), '
          f'check+decode/decode {b / c:.2f}')


def main():
    args = parse_args()
    if args.root:
        run(args.root, args.repeats)
        return
    from mmakm.datasets.synthetic import make_synthetic_casme2
    with tempfile.TemporaryDirectory(prefix='mmakm_bench_') as tmp:
        root = osp.join(tmp, 'synthetic')
        make_synthetic_casme2(root, seed=0, size=args.size, video=False)
        run(root, args.repeats)


if __name__ == '__main__':
    main()
