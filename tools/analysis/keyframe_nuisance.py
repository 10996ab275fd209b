"""Where a model's key frames fall in synthetic clips: movement, blinks,
head motion (and key frames vs apex).

    python tools/analysis/keyframe_nuisance.py LOSO_WORK_DIR [LOSO_WORK_DIR ...]
        [--corpus DIR]
    python tools/analysis/keyframe_nuisance.py --config CFG [--checkpoint CKPT]
        [--corpus DIR]

Reads the finished folds' predictions of each LOSO work dir (from its
``loso_plan.json``, checked as the pooled report checks them; the "folds"
column says how many of the protocol's folds are pooled), or runs the
model of ``--config`` (weights from ``--checkpoint``, else freshly
initialised with the config's seed) on every clip of the corpus with the
config's test pipeline; with the generator's ground truth of the corpus
(``.mmakm_synthetic_truth.json``) prints one line of statistics per source
(:func:`mmakm.evaluation.nuisance.keyframe_nuisance_stats`). The corpus is
the one each run was tested on (its fold configs' ``data_root``; of
``--config``: the config's), unless ``--corpus`` says otherwise.
"""
import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
import mmakm  # noqa: E402,F401

from mmakm.datasets.synthetic import TRUTH, load_truth  # noqa: E402
from mmakm.engine import USER_ERRORS  # noqa: E402
from mmakm.evaluation import keyframe_apex_stats  # noqa: E402
from mmakm.evaluation.nuisance import keyframe_nuisance_stats  # noqa: E402
from mmakm.loso.report import (fold_predictions, md_table,  # noqa: E402
                               read_loso_run)
from mmakm.loso.suite import random_reference  # noqa: E402


def data_root(config: str) -> str:
    """The ``data_root`` of the config's test dataset."""
    from mmakm.engine import load_config
    from mmakm.loso.plan import leaf_datasets
    roots = {leaf.get('data_root') for leaf in
             leaf_datasets(load_config(config).test_dataloader.dataset)}
    if len(roots) != 1 or None in roots:
        raise ValueError(f'{config}: no single test data_root ({roots}); '
                         'give --corpus')
    return roots.pop()


def read_truth(corpus: str) -> dict:
    """:func:`load_truth`, a missing file named with what makes one."""
    if not osp.isfile(osp.join(corpus, TRUTH)):
        raise ValueError(f'{osp.join(corpus, TRUTH)} not found: the '
                         'statistics need a corpus written by '
                         'tools/misc/make_synthetic.py (--corpus DIR)')
    return load_truth(corpus)


def model_samples(config: str, checkpoint, corpus: str) -> list:
    """Predictions of the config's model on every clip of ``corpus``."""
    import torch
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    from mmaction.registry import DATASETS, MODELS
    from mmakm.engine import load_config, load_weights, read_checkpoint
    from mmakm.evaluation import normalize_sample
    cfg = load_config(config)
    init_default_scope('mmaction')
    torch.manual_seed(cfg.get('randomness', {}).get('seed') or 0)
    model = MODELS.build(cfg.model)
    if checkpoint:
        # strict: a checkpoint of another model is refused, not analysed
        # as random weights (mmengine's load_checkpoint only warns)
        load_weights(model, read_checkpoint(checkpoint), checkpoint,
                     strict=True)
    model.eval()
    ds_cfg = dict(cfg.test_dataloader.dataset, data_root=corpus,
                  subjects=None)
    ds = DATASETS.build(ds_cfg)
    out = []
    with torch.no_grad():
        for i in range(len(ds)):
            (pred, ) = model.test_step(pseudo_collate([ds[i]]))
            out.append(normalize_sample(pred.to_dict()))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('work_dirs', nargs='*')
    p.add_argument('--config', help='run this model on every clip')
    p.add_argument('--checkpoint', help='weights for --config')
    p.add_argument('--corpus', help='the synthetic corpus (default: the '
                   'one each run was tested on)')
    args = p.parse_args(argv)
    sources = [(d, None) for d in args.work_dirs]
    if args.config:
        sources.append((args.checkpoint or f'{args.config} (initial)',
                        args.config))
    rows = []
    for d, config in sources:
        folds = 'all clips'
        try:  # an unreadable plan or truth, predictions that may not pool
            if config is None:
                run = read_loso_run(d)
                samples = [p for preds in fold_predictions(
                    run.finished, run.plan['classes']) for p in preds]
                folds = (f'{len(run.finished)} of '
                         f'{len(run.finished) + len(run.missing)}')
                corpus = args.corpus or (data_root(
                    run.finished[0].config_path) if run.finished else None)
                truth = read_truth(corpus) if corpus else {}
            else:
                corpus = args.corpus or data_root(config)
                truth = read_truth(corpus)
                samples = model_samples(config, args.checkpoint, corpus)
            nu = keyframe_nuisance_stats(samples, truth)
        except (ValueError, *USER_ERRORS) as e:
            print(f'error: {e}', file=sys.stderr)
            return 2
        kf = keyframe_apex_stats(samples)
        ref = random_reference(samples)
        acc = sum(int(s['pred_label'] == s['gt_label']) for s in samples)
        rows.append([d, folds, len(samples), acc / max(len(samples), 1),
                     kf['apex_in_key'], ref['apex_in_key'],
                     kf['dist_frames_median'], ref['dist_frames_median'],
                     nu['key_in_movement'], nu['fed_in_movement'],
                     nu['key_in_blink'], nu['fed_in_blink'],
                     nu['key_head_px'], nu['fed_head_px'],
                     nu['rho_beta_movement'], nu['rho_beta_blink'],
                     nu['rho_beta_head']])
    print(md_table(['run', 'folds', 'clips', 'acc', 'apex in key', 'random ref',
                    'median dist (fr)', 'random (fr)', 'key in mv',
                    'fed in mv', 'key in blink', 'fed in blink',
                    'head key (px)', 'head fed (px)', 'ρ β-mv', 'ρ β-blink',
                    'ρ β-head'], rows))
    return 0


if __name__ == '__main__':
    sys.exit(main())
