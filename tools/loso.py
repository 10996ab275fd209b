"""Leave-one-subject-out cross-validation of a config.

    python tools/loso.py CONFIG [--work-dir DIR] [--folds S1 S2 ...]
        [--jobs N] [--threads N] [--seed N] [--deterministic]
        [--cfg-options k=v ...] [--report-only]

Every fold (one per subject of the config's test data, or the ones given by
--folds) trains in ``<work_dir>/fold_<subject>`` with ``tools/train.py`` on
all other subjects and is tested with ``tools/test.py`` on the held-out
subject, from its LAST checkpoint (fixed schedule, validation off: no model
selection, so nothing leaks from the test subject). ``--jobs N`` runs N
folds in parallel, each with ``--threads`` torch threads (default: the
user's ``OMP_NUM_THREADS``, else 1, which is bit-reproducible on CPU); on a
GPU machine all N share the GPU, which fills it when one fold alone cannot
(small clips, batch 8). Each of the N jobs keeps one worker process for
all its folds (``mmakm/loso/worker.py``): a fold's training and test run in
it one after the other, and torch/mmengine/mmaction are imported once per
job. Fold throughput (folds/h) is printed and written to
``<work_dir>/loso_timing.json``.

Rerunning resumes: finished folds (``predictions.pkl`` present) are skipped,
an interrupted fold resumes from its last checkpoint. The predictions of
the finished folds are pooled and written to ``<work_dir>`` (a report that
lacks any fold of the protocol -- failed, or outside ``--folds`` -- says
"Incomplete: N of M folds" in every output, docs/evaluation.md):
``loso_summary.{md,json,csv}``, ``per_fold.md``, ``confusion_matrix.png``,
``keyframe_apex.png`` / ``keyframes/`` (models with key frames).

Model selection (e.g. inner LOSO on training subjects) is not offered: the
protocol is leak-free by construction.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import mmakm  # noqa: E402,F401  (stack fixes before any config is parsed)
from mmakm.engine.user_input import CfgOptionsAction  # noqa: E402

from mmakm.loso import SETUP_ERRORS, run_loso  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--work-dir', help='default: work_dirs/loso/<config name>')
    p.add_argument('--folds', nargs='+', metavar='SUBJECT',
                   help='only these subjects (e.g. casme2/sub01 or sub01)')
    p.add_argument('--jobs', type=int, default=1,
                   help='folds run in parallel (default 1)')
    p.add_argument('--seed', type=int,
                   help='seed of every fold (default: the config\'s); '
                   'frozen into the fold configs, so a rerun with another '
                   'seed in the same work dir is refused')
    p.add_argument('--deterministic', action='store_true',
                   help='randomness.deterministic=True in every fold')
    p.add_argument('--threads', type=int,
                   help='torch threads per fold (default: $OMP_NUM_THREADS '
                   'if set, else 1 -- bit-reproducible on CPU)')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                   help='overrides for the experiment config (all folds)')
    p.add_argument('--report-only', action='store_true',
                   help='do not train: pool the folds that are finished')
    p.add_argument('--quiet', action='store_true',
                   help='do not print the summary table')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    work_dir = args.work_dir or osp.join(
        'work_dirs', 'loso', osp.splitext(osp.basename(args.config))[0])
    try:
        result = run_loso(args.config, work_dir, folds=args.folds,
                          jobs=args.jobs, seed=args.seed,
                          cfg_options=args.cfg_options,
                          report_only=args.report_only,
                          deterministic=args.deterministic,
                          threads=args.threads)
    except SETUP_ERRORS as e:
        # bad arguments, configs or work dirs: the message alone
        print(f'error: {e}', file=sys.stderr)
        return 2
    if result.report is None and args.report_only:
        missing = [s for s, st in result.status.items() if st == 'missing']
        print(f'error: no finished fold to report in {result.work_dir}: '
              f'{", ".join(missing)} not finished (run without '
              '--report-only to train them)', file=sys.stderr)
        return 1
    if result.report is not None and not args.quiet:
        print(result.report.markdown)
    if result.failed:
        print(f'[loso] {len(result.failed)} fold(s) failed: '
              f'{", ".join(result.failed)} (logs in their fold dirs)',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
