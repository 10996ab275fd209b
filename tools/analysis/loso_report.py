"""Rebuild the pooled LOSO report of a work dir from its fold dirs.

    python tools/analysis/loso_report.py WORK_DIR [--quiet]

Reads ``WORK_DIR/loso_plan.json`` (written by tools/loso.py) and every
finished fold's ``predictions.pkl``; writes loso_summary.{md,json,csv},
per_fold.md, confusion_matrix.png and the key-frame plots again. Subjects
of the protocol whose fold is not pooled, and pooled folds that lack clips
of their subject (the plan's ``clips``), are listed, and every output is
marked "Incomplete: ...". Trains nothing.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
import mmakm  # noqa: E402,F401

from mmakm.loso.report import (LosoPlanError, build_report,  # noqa: E402
                               read_loso_run)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('work_dir')
    p.add_argument('--quiet', action='store_true')
    args = p.parse_args(argv)
    try:
        run = read_loso_run(args.work_dir)
    except LosoPlanError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    if not run.finished:
        print(f'error: no finished fold in {args.work_dir}', file=sys.stderr)
        return 1
    try:
        report = build_report(osp.abspath(args.work_dir), run.finished,
                              run.plan['classes'],
                              config=run.plan.get('config'),
                              missing=run.missing,
                              expected_clips=run.clips)
    except ValueError as e:  # an unreadable or unsafe predictions.pkl
        print(f'error: {e}', file=sys.stderr)
        return 2
    if not args.quiet:
        print(report.markdown)
    return 0


if __name__ == '__main__':
    sys.exit(main())
