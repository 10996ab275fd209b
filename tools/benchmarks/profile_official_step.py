#!/usr/bin/env python
"""torch.profiler tables of one train step: mmakm's micro-batched step
(``train_cfg.micro_batch_frames``) vs the authors' one-clip-at-a-time
accumulated step, official settings, same weights and clips.

    python tools/benchmarks/profile_official_step.py --lengths 141 24
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

import mmakm  # noqa: E402,F401  (stack fixes + registration)
from benchmarks import workloads as W  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--lengths', type=int, nargs='+', default=[141, 24])
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--micro-batch', type=int, default=1,
                   help='micro_batch_frames of mmakm\'s step (default 1)')
    p.add_argument('--rows', type=int, default=14)
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> dict:
    """Print a CPU-time line and an operator table per step; returns
    ``{case: {operator: calls}}``."""
    args = parse_args(argv)
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope

    from mmakm.testing import OfficialAKMNet, copy_to_akmnet
    init_default_scope('mmaction')
    MMLogger.get_instance('mmakm_profile', log_level='WARNING')
    torch.set_num_threads(1)
    cpu = torch.device('cpu')
    clips, samples = W.make_clips(args.lengths, 1, args.size, args.seed, cpu)
    torch.manual_seed(args.seed)
    theirs = OfficialAKMNet(spatial_size=args.size // 32)
    model = W.build(W.official_cfg(args.size, train_cfg=dict(
        micro_batch_frames=args.micro_batch)), cpu, args.seed)
    copy_to_akmnet(theirs, model)
    steps = dict(
        mmakm_micro=W.train_step(model, dict(inputs=clips,
                                             data_samples=samples),
                                 W.optim_wrapper(model)),
        authors_accumulated=W.OfficialAccumulation(theirs).step(clips,
                                                                samples))
    calls = {}
    for name, step in steps.items():
        step()  # warm-up
        t0 = time.process_time()
        step()
        print(f'{name}: {time.process_time() - t0:.3f} s CPU time')
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            step()
        table = prof.key_averages()
        print(table.table(sort_by='self_cpu_time_total',
                          row_limit=args.rows))
        calls[name] = {e.key: e.count for e in table}
    return calls


if __name__ == '__main__':
    main()
