#!/usr/bin/env python
"""Run each LOSO fold's AKMNet over EVERY clip of the corpus (key frames).

    python tools/loso.py configs/akm_casme2.py
    python tools/misc/dump_fold_keyframes.py work_dirs/loso/akm_casme2
    python tools/loso.py configs/baselines/r18_maxbeta_casme2.py

The single max-β key-frame baselines train and test, in fold k, on the key
frames chosen by fold k's AKMNet, which was trained without subject k: its
LOSO test dump covers subject k only, so this tool runs the fold's final
checkpoint over the clips of all subjects and writes
``<work_dir>/<fold>/all_clips/predictions.pkl`` (what the max-β pipelines
read, ``{fold}`` filled per fold). Each fold's run goes through
``tools/test.py`` (log: ``<fold>/all_clips/test.log``); the dump is written
atomically, and folds already dumped are skipped, so a rerun resumes.
"""
import argparse
import glob
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
from mmakm.engine import atomic_write_text  # noqa: E402
from mmakm.loso import (Fold, FoldRunner, fold_finished,  # noqa: E402
                        leaf_datasets)
from mmakm.loso.plan import load_config  # noqa: E402
from mmakm.loso.runner import trained_checkpoint  # noqa: E402

ALL_CLIPS = 'all_clips'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('work_dir', help='work dir of a finished AKMNet LOSO run')
    p.add_argument('--folds', nargs='+',
                   help='fold folder names (default: every fold)')
    return p.parse_args(argv)


def all_clips_fold(fold_config: str, work_dir: str) -> Fold:
    """The fold that tests ``fold_config``'s model on every subject."""
    name = osp.splitext(osp.basename(fold_config))[0]
    return Fold(subject=name, work_dir=osp.join(work_dir, name, ALL_CLIPS))


def write_all_clips_config(fold_config: str, fold: Fold) -> None:
    """The fold's config with every subject in its test data."""
    cfg = load_config(fold_config)
    for leaf in leaf_datasets(cfg.test_dataloader.dataset):
        leaf.pop('subjects', None)
        leaf.pop('exclude_subjects', None)
    cfg.work_dir = fold.work_dir
    os.makedirs(osp.dirname(fold.config_path), exist_ok=True)
    atomic_write_text(cfg.pretty_text, fold.config_path)


def main(argv=None) -> dict:
    args = parse_args(argv)
    work_dir = osp.abspath(args.work_dir)
    if not osp.isdir(work_dir):
        raise SystemExit(f'error: work dir not found: {work_dir} (expected '
                         'the --work-dir of a tools/loso.py run)')
    configs = sorted(glob.glob(osp.join(work_dir, 'fold_configs', '*.py')))
    names = [osp.splitext(osp.basename(c))[0] for c in configs]
    if args.folds:
        unknown = sorted(set(args.folds) - set(names))
        if configs and unknown:
            raise SystemExit(f'error: --folds {" ".join(unknown)}: no such '
                             f'fold in {work_dir}; its folds: '
                             f'{" ".join(names)}')
        configs = [c for c, n in zip(configs, names) if n in args.folds]
    if not configs:
        raise SystemExit(f'error: {work_dir}: no fold config '
                         '(fold_configs/*.py); run tools/loso.py on the '
                         'AKMNet config first')
    runner, status = FoldRunner(jobs=1), {}
    for path in configs:
        fold = all_clips_fold(path, work_dir)
        trained = Fold(subject=fold.subject, work_dir=osp.dirname(
            fold.work_dir))
        ckpt = trained_checkpoint(trained)
        if ckpt is None:
            raise SystemExit(f'{trained.work_dir}: training not finished '
                             '(no train_done.json with a checkpoint)')
        if fold_finished(fold):
            status[fold.subject] = 'skipped'
            continue
        os.makedirs(fold.work_dir, exist_ok=True)
        write_all_clips_config(path, fold)
        runner.test(fold, ckpt)
        status[fold.subject] = 'done'
        print(f'{fold.predictions}: written')
    return status


if __name__ == '__main__':
    main()
