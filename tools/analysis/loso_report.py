"""Rebuild the pooled LOSO report of a work dir from its fold dirs.

    python tools/analysis/loso_report.py WORK_DIR [--quiet]

Reads ``WORK_DIR/loso_plan.json`` (written by tools/loso.py) and every
finished fold's ``predictions.pkl``; writes loso_summary.{md,json,csv},
per_fold.md, confusion_matrix.png and the key-frame plots again. Subjects
of the protocol whose fold is not pooled are listed, and every output is
marked "Incomplete: N of M folds". Trains nothing.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
import mmakm  # noqa: E402,F401

from mmakm.loso.plan import Fold  # noqa: E402
from mmakm.loso.report import build_report  # noqa: E402
from mmakm.loso.runner import fold_finished  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('work_dir')
    p.add_argument('--quiet', action='store_true')
    args = p.parse_args(argv)
    plan_path = osp.join(args.work_dir, 'loso_plan.json')
    if not osp.isfile(plan_path):
        print(f'error: {plan_path} not found (not a tools/loso.py work dir)',
              file=sys.stderr)
        return 2
    with open(plan_path) as f:
        plan = json.load(f)
    # fold dirs are resolved relative to WORK_DIR, so a moved dir works too
    folds = [Fold(f['subject'], osp.join(osp.abspath(args.work_dir),
                                         osp.basename(f['work_dir'])))
             for f in plan['folds']]
    finished = [f for f in folds if fold_finished(f)]
    if not finished:
        print(f'error: no finished fold in {args.work_dir}', file=sys.stderr)
        return 1
    # the protocol's subjects (the plan's folds may be a --folds subset)
    pooled = {f.subject for f in finished}
    subjects = plan.get('subjects') or [f.subject for f in folds]
    try:
        report = build_report(osp.abspath(args.work_dir), finished,
                              plan['classes'], config=plan.get('config'),
                              missing=[s for s in subjects
                                       if s not in pooled])
    except ValueError as e:  # an unreadable or unsafe predictions.pkl
        print(f'error: {e}', file=sys.stderr)
        return 2
    if not args.quiet:
        print(report.markdown)
    return 0


if __name__ == '__main__':
    sys.exit(main())
