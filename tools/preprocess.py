#!/usr/bin/env python
"""Preprocess a corpus as shipped into the frame cache the configs train on.

    python tools/preprocess.py CONFIG [OUT_DIR] [--cfg-options k=v ...]
        [--overwrite] [--skip-failed]

Reads every clip of the config's dataset(s) (train and test, all subjects)
from the shipped frames, aligns the face (one similarity transform per
clip: eye line horizontal, fixed inter-ocular distance, face centred),
optionally stabilises every frame to the onset and magnifies the motion,
and writes one uint8 (T, S, S, 3) ``.npy`` per clip plus its index of
frame numbers to OUT_DIR (default: the dataset's ``cache_dir``). The
recipe is the config's ``preprocess`` section (``face``, ``stabilise``,
``magnify``). Clips already cached are reused, so an interrupted run
resumes. A per-corpus report (``OUT_DIR/<corpus>/preprocess_report.json``)
lists every clip, and by name each one that failed (no face found in the
reference frame, unreadable frames); the exit status is 1 if any failed,
unless --skip-failed.
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import mmakm  # noqa: E402,F401  (stack fixes before the config is parsed)
from mmakm.engine.user_input import CfgOptionsAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('out_dir', nargs='?',
                   help="cache folder (default: the dataset's cache_dir)")
    p.add_argument('--overwrite', action='store_true',
                   help='remake every clip (also when the recipe changed)')
    p.add_argument('--skip-failed', action='store_true',
                   help='exit 0 even if some clips failed (they stay listed '
                   'in the report and are skipped by training only with '
                   "on_bad_sample='skip')")
    p.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmakm.engine import (USER_ERRORS, ensure_synthetic_corpus,
                              load_config)
    from mmakm.preprocessing.runner import (failed_count, format_summary,
                                            preprocess_config)
    start = time.perf_counter()
    try:
        cfg = load_config(args.config, args.cfg_options)
        init_default_scope(cfg.get('default_scope', 'mmaction'))
        ensure_synthetic_corpus(cfg)  # configs on the built-in corpus
        out_dir = args.out_dir or cfg.train_dataloader.dataset.get(
            'cache_dir')
        if not out_dir:
            print('error: give OUT_DIR (the config sets no dataset '
                  'cache_dir)', file=sys.stderr)
            return 2
        print(f'config: {args.config}')
        reports = preprocess_config(cfg, out_dir, args.overwrite)
    except (ValueError, *USER_ERRORS) as exc:
        # a config/argument error, or a cache made with another recipe or
        # from another copy of the corpus
        print(f'error: {exc}', file=sys.stderr)
        return 2
    print('\n'.join(format_summary(reports)))
    failed = failed_count(reports)
    print(f'cache: {out_dir} ({time.perf_counter() - start:.1f} s); '
          f'reports: {osp.join(out_dir, "<corpus>", "preprocess_report.json")}')
    if failed and not args.skip_failed:
        print(f'error: {failed} clips failed (listed above); fix them or '
              'pass --skip-failed', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
