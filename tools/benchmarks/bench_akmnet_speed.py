"""Inference cost of AKMNet against the bare per-frame ResNet-18.

Builds the default AKMNet (FrameResNet-18, 3 channels, 128×128 frames), draws
8 clip lengths in [24, 141] (seeded) and measures, in one run, in eval mode
under ``torch.no_grad``, the median of ``--repeats`` timings of:

(a) the bare per-frame ResNet-18 backbone on the batch's ΣT frames,
(b) the full AKMNet ``predict`` on the packed batch,
(c) AKMNet ``predict`` on each clip alone (summed over the 8 clips),
(d) the backbone on a zero-padded (8, max T) batch, for contrast.

Prints the ratios b/a (target ≤ 1.10), batch/sum-of-singles (b/c) and
padded/packed (d/a).

Example::

    python tools/benchmarks/bench_akmnet_speed.py --repeats 3 --threads 1
"""
import argparse
import statistics
import time

import torch

import mmakm  # noqa: F401  (stack fixes + registration)
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.registry import init_default_scope


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--clips', type=int, default=8)
    p.add_argument('--min-len', type=int, default=24)
    p.add_argument('--max-len', type=int, default=141)
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--threads', type=int, default=1,
                   help='torch intra-op threads (default 1: stable timings '
                   'on a shared machine; 0 = torch default)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--chunk', type=int, default=32,
                   help='FrameResNet infer_chunk_size (0: whole batch)')
    return p.parse_args()


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    args = parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    init_default_scope('mmaction')
    gen = torch.Generator().manual_seed(args.seed)
    # spread the lengths over [min, max], both ends included, shuffled
    inner = torch.randint(args.min_len, args.max_len + 1, (args.clips - 2, ),
                          generator=gen).tolist()
    lengths = [args.min_len, args.max_len] + inner
    lengths = [lengths[i] for i in torch.randperm(args.clips,
                                                   generator=gen).tolist()]

    model = MODELS.build(
        dict(type='AKMNet',
             backbone=dict(type='FrameResNet',
                           infer_chunk_size=args.chunk),
             neck=dict(type='KeyFrameMining'),
             cls_head=dict(type='PixelBiGRUHead', num_classes=4),
             data_preprocessor=dict(type='MEDataPreprocessor',
                                    mean=[123.675, 116.28, 103.53],
                                    std=[58.395, 57.12, 57.375])))
    model.eval()  # default PyTorch init: weights do not change the cost
    s = args.size
    clips = [torch.randint(0, 256, (t, 3, s, s), dtype=torch.uint8,
                           generator=gen) for t in lengths]

    def prep(cs):
        data = dict(inputs=list(cs),
                    data_samples=[ActionDataSample() for _ in cs])
        return model.data_preprocessor(data, False)

    batch = prep(clips)
    singles = [prep([c]) for c in clips]
    frames = batch['inputs']
    total, max_t = frames.shape[0], max(lengths)
    padded = torch.zeros(args.clips * max_t, 3, s, s)

    with torch.no_grad():
        run_a = lambda: model.backbone(frames)  # noqa: E731
        run_b = lambda: model(**batch, mode='predict')  # noqa: E731

        def run_c():
            for d in singles:
                model(**d, mode='predict')

        run_d = lambda: model.backbone(padded)  # noqa: E731
        # warm-up: the shortest clip through AKMNet and the backbone
        shortest = singles[lengths.index(min(lengths))]
        model(**shortest, mode='predict')
        model.backbone(shortest['inputs'])
        # interleave the repeats so background load affects all alike
        ta, tb, tc, td = [], [], [], []
        for _ in range(args.repeats):
            ta.append(median_time(run_a, 1))
            tb.append(median_time(run_b, 1))
            tc.append(median_time(run_c, 1))
            td.append(median_time(run_d, 1))
        feats = run_a()
        lens = torch.tensor(lengths)

        def run_neck_head():
            out = model.neck(feats, lens)
            model.cls_head(out.features, out.key_lengths)

        t_head = median_time(run_neck_head, args.repeats)
    a, b, c, d = (statistics.median(x) for x in (ta, tb, tc, td))
    # ratios within each repeat (a, b, c, d run back to back), then median:
    # robust to load that drifts between repeats
    r_ba = statistics.median(y / x for x, y in zip(ta, tb))
    r_bc = statistics.median(y / x for x, y in zip(tc, tb))
    r_da = statistics.median(y / x for x, y in zip(ta, td))

    print(f'torch {torch.__version__}, threads {torch.get_num_threads()}, '
          f'backbone chunk {args.chunk}, '
          f'{s}x{s}x3, {args.clips} clips, lengths {lengths} '
          f'(sum {total}, max {max_t}), median of {args.repeats}')
    print(f'(a) bare ResNet-18 backbone, {total} frames : {a * 1e3:9.1f} ms')
    print(f'(b) AKMNet predict, packed batch       : {b * 1e3:9.1f} ms')
    print(f'(c) AKMNet predict, clips one at a time: {c * 1e3:9.1f} ms')
    print(f'(d) backbone on zero-padded (8, {max_t})  : {d * 1e3:9.1f} ms')
    print(f'    neck+head alone (on backbone output): {t_head * 1e3:9.1f} ms')
    print('ratios (median of per-repeat ratios; ratio of medians):')
    print(f'b/a  AKMNet vs bare backbone           : {r_ba:.3f}; {b / a:.3f}'
          '  (target <= 1.10)')
    print(f'b/c  batch vs sum of single clips       : {r_bc:.3f}; {b / c:.3f}'
          '  (target <= 1.00)')
    print(f'd/a  padded vs packed backbone          : {r_da:.3f}; {d / a:.3f}'
          f'  (frames {args.clips * max_t}/{total} = '
          f'{args.clips * max_t / total:.3f})')
    print(f'per-repeat times (s): a {_fmt(ta)} b {_fmt(tb)} c {_fmt(tc)} '
          f'd {_fmt(td)}')


def _fmt(xs):
    return '[' + ', '.join(f'{x:.2f}' for x in xs) + ']'


if __name__ == '__main__':
    main()
