#!/usr/bin/env python
"""Speed of mmakm where users need it: one command, one table, JSON too.

Sections (all on the same seeded clips: 8 clips, lengths drawn in
[24, 141], 128×128; one run, repeats interleaved, median and spread):

* ``akmnet``   AKMNet inference and train step (forward + backward + SGD)
               vs the bare per-frame ResNet-18 on the same frames
               (targets ≤ 1.05× and ≤ 1.10×); batch vs clips one by one and
               zero-padding vs packing (not with ``--quick``).
* ``official`` train step in the official settings (gray, 5×5 stem):
               mmakm's packed batch (BN over the batch, and per chunk) and
               micro-batched step (``train_cfg.micro_batch_frames``: forward
               + backward per group of whole clips, one SGD step) vs the
               authors' one clip per forward + gradient accumulation over 8
               (target ≥ 1× on CPU, ≥ 3× on GPU).
* ``models``   AKMNet vs TSN-R18 (8 segments) and I3D-R50 (16 frames) as
               users run them: clips/s, frames/s, peak memory (CPU RSS /
               CUDA max allocated).
* ``length``   cost of one clip vs its length T = 16 … 256, linear fit.
* ``data``     frames/s of the training pipeline with 0/1/2 workers on JPEGs
               (CASME II layout) and on the preprocessed frame cache vs the
               model's training frames/s.
* ``options``  (only when named) the packed train step under each speed
               option: channels_last, autocast, BN chunks of 16/32/64.

A section that fails reports its error; the others still run. Examples::

    python tools/benchmark.py                                  # CPU, <10 min
    python tools/benchmark.py --device cuda --quick --out bench.json
    python tools/benchmark.py --sections akmnet official --repeats 5
"""
import argparse
import os
import os.path as osp
import platform
import sys
import time
import traceback

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import torch  # noqa: E402

import mmakm  # noqa: E402,F401  (stack fixes + registration)
from benchmarks import report  # noqa: E402
from benchmarks.sections import (DEFAULT_SECTIONS, SECTIONS,  # noqa: E402
                                 Context)
from benchmarks.workloads import draw_lengths  # noqa: E402
from mmakm.engine import atomic_json_dump  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cpu',
                   help="'cpu', 'cuda' or 'cuda:N' (default cpu)")
    p.add_argument('--quick', action='store_true',
                   help='2 repeats, 3 lengths, no packing contrasts, '
                   'workers 0 and 2 only')
    p.add_argument('--out', help='write the results as JSON here')
    p.add_argument('--sections', nargs='+', choices=list(SECTIONS),
                   default=list(DEFAULT_SECTIONS))
    p.add_argument('--repeats', type=int,
                   help='interleaved repeats (default 2 on CPU and with '
                   '--quick, 3 on CUDA)')
    p.add_argument('--clips', type=int, default=8)
    p.add_argument('--min-len', type=int, default=24)
    p.add_argument('--max-len', type=int, default=141)
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1,
                   help='torch intra-op threads on CPU (default 1: stable '
                   'on a shared machine; 0 = torch default)')
    p.add_argument('--amp', action='store_true',
                   help='train steps under autocast (AutocastOptimWrapper: '
                   'bf16 where supported, fp16 + loss scaling otherwise)')
    p.add_argument('--channels-last', action='store_true',
                   help='channels_last backbones')
    p.add_argument('--cudnn-benchmark', action='store_true')
    p.add_argument('--infer-chunk', default='auto',
                   help="FrameResNet infer_chunk_size: 'auto' or frames "
                   '(0: whole batch)')
    p.add_argument('--train-chunk', type=int, default=0,
                   help='official section: also time FrameResNet '
                   'train_chunk_size=N (BN per chunk; default 0: skip)')
    p.add_argument('--micro-batch', type=int, nargs='*',
                   default=[128],
                   help='official section: also time the micro-batched '
                   'step with train_cfg.micro_batch_frames=N for each N '
                   '(1: one clip per forward; none: skip)')
    p.add_argument('--data-root',
                   help='a CASME II-layout corpus for the data section '
                   '(default: a temporary synthetic one)')
    args = p.parse_args(argv)
    if args.infer_chunk != 'auto':
        args.infer_chunk = int(args.infer_chunk)
    if args.repeats is None:
        # CPU: 2 keeps the full table within ~10 minutes on 2 cores
        args.repeats = 2 if args.quick or args.device == 'cpu' else 3
    if args.repeats < 1:
        p.error('--repeats must be >= 1')
    if any(n < 1 for n in args.micro_batch):
        p.error('--micro-batch frame budgets must be >= 1')
    if args.clips < 1 or not 1 <= args.min_len <= args.max_len:
        p.error('need --clips >= 1 and 1 <= --min-len <= --max-len')
    return args


def machine(device: torch.device) -> dict:
    """What the figures were measured on."""
    info = dict(host=platform.node(), platform=platform.platform(),
                python=platform.python_version(), torch=torch.__version__,
                cpu=platform.processor() or platform.machine(),
                cpu_count=os.cpu_count(), threads=torch.get_num_threads(),
                device=str(device),
                thp_alloc=os.environ.get('THP_MEM_ALLOC_ENABLE'))
    try:
        info['load_avg'] = os.getloadavg()
    except OSError:
        pass
    if device.type == 'cuda':
        info['gpu'] = torch.cuda.get_device_name(device)
        info['cuda'] = torch.version.cuda
        info['cudnn'] = torch.backends.cudnn.version()
    return info


def main(argv=None):
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit(f'--device {args.device}: CUDA is not available '
                         f'(torch {torch.__version__})')
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    # a quiet current logger: no per-model weight-init reports in the table
    if MMLogger.check_instance_created('mmakm_benchmark'):
        MMLogger.get_instance('mmakm_benchmark')  # make it current again
    else:
        MMLogger.get_instance('mmakm_benchmark', log_level='WARNING')
    lengths = draw_lengths(args.clips, args.min_len, args.max_len, args.seed)
    ctx = Context(device=device, lengths=lengths, size=args.size,
                  repeats=args.repeats, seed=args.seed, quick=args.quick,
                  amp=args.amp, channels_last=args.channels_last,
                  infer_chunk=args.infer_chunk, train_chunk=args.train_chunk,
                  micro_batches=args.micro_batch, data_root=args.data_root)
    command = 'python tools/benchmark.py ' + ' '.join(
        sys.argv[1:] if argv is None else argv)
    result = dict(command=command.strip(), machine=machine(device),
                  settings=dict(lengths=lengths, frames=sum(lengths),
                                size=args.size, repeats=args.repeats,
                                seed=args.seed, quick=args.quick,
                                amp=args.amp,
                                channels_last=args.channels_last,
                                cudnn_benchmark=args.cudnn_benchmark,
                                infer_chunk=args.infer_chunk,
                                train_chunk=args.train_chunk,
                                micro_batches=args.micro_batch),
                  sections={})
    start = time.perf_counter()
    for name in args.sections:
        t0 = time.perf_counter()
        print(f'[{name}] running ...', flush=True)
        try:
            out = SECTIONS[name](ctx)
            out['ok'] = True
        except Exception as exc:  # report, then go on with the others
            out = dict(ok=False, error=f'{type(exc).__name__}: {exc}',
                       traceback=traceback.format_exc())
            print(out['traceback'], file=sys.stderr, flush=True)
        out['wall_s'] = time.perf_counter() - t0
        ctx.results[name] = result['sections'][name] = out
        if device.type == 'cuda':
            torch.cuda.empty_cache()
    result['wall_s'] = time.perf_counter() - start
    print(report.render(result))
    if args.out:
        atomic_json_dump(result, args.out)
        print(f'results written to {args.out}')
    failed = [n for n, s in result['sections'].items() if not s['ok']]
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
