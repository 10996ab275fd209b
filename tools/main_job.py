"""The main job (``make demo``): LOSO of AKMNet and a TSN baseline on the
built-in synthetic corpus, one pooled table, plots.

    python tools/main_job.py [--work-dir work_dirs/main_job] [--jobs 2]
        [--fast]

Steps: generate the synthetic corpus (if absent), run leak-free LOSO (see
tools/loso.py) for configs/akm_synthetic.py and
configs/baselines/tsn_r18_synthetic.py, print one table
(method | acc | UF1 | UAR | apex in key frames | median |apex − argmax β|)
and write it as ``summary.{md,json,csv}`` next to each method's LOSO report
and plots. Resumable: a rerun after a kill reuses the finished folds.
"""
import argparse
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
import mmakm  # noqa: E402,F401  (stack fixes before any config is parsed)

from mmakm.loso import run_loso  # noqa: E402
from mmakm.loso.report import write_method_table  # noqa: E402

#: (method name, config, cfg overrides that fit the 15-minute budget on
#: 2 CPU cores; the configs' own schedules are the reference ones)
METHODS = (
    ('AKMNet', 'configs/akm_synthetic.py', {}),
    ('TSN-R18', 'configs/baselines/tsn_r18_synthetic.py', {}),
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--work-dir', default=osp.join('work_dirs', 'main_job'))
    p.add_argument('--jobs', type=int, default=2,
                   help='LOSO folds in parallel (default 2)')
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    t0 = time.time()
    rows, failed = [], []
    for name, config, overrides in METHODS:
        print(f'\n=== {name}: LOSO of {config} ===', flush=True)
        t = time.time()
        result = run_loso(osp.join(ROOT, config),
                          osp.join(args.work_dir, name.lower()),
                          jobs=args.jobs, seed=args.seed,
                          cfg_options=dict(overrides) or None)
        print(f'=== {name}: {time.time() - t:.0f}s ===', flush=True)
        failed += [f'{name}:{s}' for s in result.failed]
        if result.report is not None:
            rows.append((name, result.report))
    if rows:
        table = write_method_table(rows, args.work_dir)
        print('\nPooled LOSO results on the synthetic corpus (leak-free: '
              'fixed schedule, last checkpoint)\n')
        print(table)
        print(f'\nreports and plots: {osp.abspath(args.work_dir)}/*/')
    print(f'main job: {time.time() - t0:.0f}s wall', flush=True)
    if failed:
        print(f'failed folds: {failed}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
