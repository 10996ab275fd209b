"""The LOSO demo (``make demo``): leak-free LOSO of AKMNet and a TSN baseline
on the built-in synthetic corpus, one pooled table, plots.

    python tools/loso_demo.py [--work-dir work_dirs/loso_demo] [--jobs 2]
        [--seed 0]

Steps: generate the synthetic corpus (if absent), run leak-free LOSO (see
tools/loso.py) for configs/akm_synthetic.py and
configs/baselines/tsn_r18_synthetic.py, print one table
(method | acc | UF1 | UAR | apex in key frames | median |apex − max-β key|)
and write it as ``summary.{md,json,csv}``; each method's LOSO report and
plots are in ``<work-dir>/<method>/seed<k>/``. Resumable: a rerun after a
kill reuses the finished folds. The full comparison (12 rows, 3 seeds
for the main rows) is ``tools/evidence.py``.
"""
import argparse
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
import mmakm  # noqa: E402,F401  (stack fixes before any config is parsed)

from mmakm.loso import SETUP_ERRORS  # noqa: E402
from mmakm.loso.report import write_method_table  # noqa: E402
from mmakm.loso.suite import (Method, report_failures,  # noqa: E402
                              run_suite)

METHODS = (
    Method('AKMNet', 'configs/akm_synthetic.py'),
    Method('TSN-R18', 'configs/baselines/tsn_r18_synthetic.py'),
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--work-dir', default=osp.join('work_dirs', 'loso_demo'))
    p.add_argument('--jobs', type=int, default=2,
                   help='LOSO folds in parallel (default 2)')
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    t0 = time.time()
    try:
        results = run_suite(METHODS, args.work_dir, ROOT, jobs=args.jobs,
                            seeds=(args.seed, ))
    except SETUP_ERRORS as e:  # e.g. a work dir that cannot be written
        print(f'error: {e}', file=sys.stderr)
        return 2
    rows = [(r.method.name, r.report) for r in results
            if r.report is not None]
    if rows:
        table = write_method_table(rows, args.work_dir)
        print('\nPooled LOSO results on the synthetic corpus (leak-free: '
              'fixed schedule, last checkpoint)\n')
        print(table)
        print(f'\nreports and plots: {osp.abspath(args.work_dir)}/*/')
    print(f'LOSO demo: {time.time() - t0:.0f}s wall', flush=True)
    return report_failures(results)


if __name__ == '__main__':
    sys.exit(main())
