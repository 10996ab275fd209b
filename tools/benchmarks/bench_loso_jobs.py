"""A LOSO slice with 1 and N folds in flight, and the full LOSO extrapolated.

Runs ``tools/loso.py CONFIG --folds F1 F2 ... --jobs J`` for every J of
``--jobs`` (each in its own work dir, ``--epochs`` epochs a fold), then
reads, per run, the fold throughput (``loso_timing.json``) and the steady
iteration time of the folds' training logs (epochs after the first), and
extrapolates the whole protocol::

    epoch_s   = iterations a fold-epoch x steady iteration time (under J jobs)
    setup_s   = measured fold time - epochs x epoch_s  (start-up, warm-up,
                test)
    full_loso = folds x (setup_s + full_epochs x epoch_s) / J

Prints a table; ``--out`` writes everything as JSON.

Example (the CASME II-sized LOSO on one GPU)::

    python tools/benchmarks/bench_loso_jobs.py --jobs 1 4 --epochs 3 \
        --folds sub01 sub02 sub03 sub04 --out loso_jobs.json
"""
import argparse
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'casme2_sized',
                          'akm_casme2_sized.py')
_ITER = re.compile(r'Epoch\(train\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\].*?'
                   r'\stime: ([0-9.]+)')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default=DEFAULT_CONFIG)
    p.add_argument('--folds', nargs='+', default=['sub01', 'sub02', 'sub03'])
    p.add_argument('--jobs', nargs='+', type=int, default=[1, 3])
    p.add_argument('--epochs', type=int, default=3,
                   help='epochs a fold in the slice (>= 2)')
    p.add_argument('--full-folds', type=int, default=26)
    p.add_argument('--full-epochs', type=int, default=40)
    p.add_argument('--work-root', default='work_dirs/bench_loso_jobs')
    p.add_argument('--cfg-options', nargs='+', default=[],
                   help='passed on to tools/loso.py (k=v ...)')
    p.add_argument('--out', help='write the results as JSON here')
    return p.parse_args(argv)


def steady_iter_time(log_path: str):
    """(median logged iteration time after epoch 1, iterations an epoch)."""
    times, iters = [], None
    with open(log_path, errors='replace') as f:
        for line in f:
            m = _ITER.search(line)
            if m:
                iters = int(m.group(3))
                if int(m.group(1)) > 1:
                    times.append(float(m.group(4)))
    return (statistics.median(times) if times else None), iters


def run_slice(args, jobs: int) -> dict:
    work_dir = osp.abspath(osp.join(args.work_root, f'jobs{jobs}'))
    cmd = [sys.executable, osp.join(REPO, 'tools', 'loso.py'), args.config,
           '--work-dir', work_dir, '--folds', *args.folds,
           '--jobs', str(jobs), '--seed', '0', '--quiet', '--cfg-options',
           f'train_cfg.max_epochs={args.epochs}',
           'default_hooks.logger.interval=5', 'log_processor.window_size=5',
           *args.cfg_options]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    out = dict(jobs=jobs, command=' '.join(cmd[1:]), returncode=proc.returncode,
               wall_s=wall, stdout_tail=proc.stdout[-3000:],
               stderr_tail=proc.stderr[-3000:])
    if proc.returncode != 0:
        return out
    with open(osp.join(work_dir, 'loso_timing.json')) as f:
        out['timing'] = json.load(f)
    per_fold = []
    for name in sorted(os.listdir(work_dir)):
        log = osp.join(work_dir, name, 'train.log')
        if name.startswith('fold_') and osp.isfile(log):
            it, n = steady_iter_time(log)
            if it is not None:
                per_fold.append(dict(fold=name, iter_s=it, iters=n,
                                     epoch_s=it * n))
    out['folds'] = per_fold
    if per_fold:
        epoch_s = statistics.mean(f['epoch_s'] for f in per_fold)
        setup_s = max(0.0, out['timing']['mean_fold_s']
                      - args.epochs * epoch_s)
        out.update(epoch_s=epoch_s, setup_s=setup_s,
                   full_loso_s=args.full_folds
                   * (setup_s + args.full_epochs * epoch_s) / jobs)
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.epochs < 2:
        raise SystemExit('--epochs must be >= 2 (epoch 1 is warm-up)')
    runs = [run_slice(args, j) for j in args.jobs]
    print(f'LOSO slice: {len(args.folds)} folds x {args.epochs} epochs; '
          f'full protocol extrapolated to {args.full_folds} folds x '
          f'{args.full_epochs} epochs')
    print('| jobs | slice wall (s) | folds/h | fold-epoch (s) | fold setup '
          '(s) | full LOSO (min) |')
    print('|---|---|---|---|---|---|')
    for r in runs:
        if r['returncode'] != 0 or 'full_loso_s' not in r:
            print(f"| {r['jobs']} | failed (rc {r['returncode']}) | | | | |")
            print(r['stdout_tail'][-1500:], r['stderr_tail'][-1500:])
            continue
        print(f"| {r['jobs']} | {r['wall_s']:.1f} | "
              f"{r['timing']['folds_per_hour']:.0f} | {r['epoch_s']:.2f} | "
              f"{r['setup_s']:.1f} | {r['full_loso_s'] / 60:.1f} |")
    if args.out:
        from mmakm.engine import atomic_json_dump
        atomic_json_dump(dict(vars(args), runs=runs), args.out)
    return 0 if all(r['returncode'] == 0 for r in runs) else 1


if __name__ == '__main__':
    sys.exit(main())
