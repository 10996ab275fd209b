"""Training epochs of one LOSO fold on the device-resident corpus.

Builds the model and the training loader of one fold of CONFIG (default:
the CASME II-sized corpus, fold ``--fold`` held out) and times, in one run,
``--epochs`` epochs after one warm-up epoch for each variant:

* ``fp32``: float32 training step;
* ``bf16``: autocast bfloat16 (``AutocastOptimWrapper``, CPU or CUDA);
* ``bf16_cl``: bf16 with the backbone and the frames in ``channels_last``;

and, per variant, the time the preprocessor alone takes to gather, crop,
flip and normalise an epoch's batches (the data path) as a share of the
epoch. Prints a table; ``--out`` writes the numbers as JSON.

Example (GPU)::

    python tools/benchmarks/bench_device_corpus.py --device cuda --out b.json
"""
import argparse
import copy
import json
import os.path as osp
import statistics
import sys
import time

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
import mmakm  # noqa: E402,F401  (stack fixes + registration)
from mmengine.config import Config, DictAction  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'casme2_sized',
                          'akm_casme2_sized.py')
VARIANTS = ('fp32', 'bf16', 'bf16_cl')


def add_fold_args(p: argparse.ArgumentParser) -> None:
    """``--config``, ``--fold`` and ``--device`` of the one-fold benchmarks."""
    p.add_argument('--config', default=DEFAULT_CONFIG)
    p.add_argument('--fold', default='sub01', help='held-out subject')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available()
                   else 'cpu')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_fold_args(p)
    p.add_argument('--epochs', type=int, default=2,
                   help='timed epochs per variant (after 1 warm-up)')
    p.add_argument('--variants', nargs='+', default=list(VARIANTS),
                   choices=VARIANTS)
    p.add_argument('--cudnn-benchmark', action='store_true')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', help='write the results as JSON here')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def _sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _build(cfg, fold, device, variant):
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import Runner

    from mmaction.registry import MODELS
    model_cfg = copy.deepcopy(cfg.model)
    channels_last = variant == 'bf16_cl'
    model_cfg.data_preprocessor['channels_last'] = channels_last
    model_cfg.backbone['channels_last'] = channels_last
    model = MODELS.build(model_cfg).to(device)
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    if variant != 'fp32':
        optim_cfg.update(type='AutocastOptimWrapper', dtype='bfloat16')
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    leaf = loader_cfg.dataset.dataset
    leaf['exclude_subjects'] = list(leaf.get('exclude_subjects') or []) + [
        fold]
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    return model, optim_wrapper, loader


def _epoch(model, optim_wrapper, loader, device, train=True):
    """Seconds of one epoch of train steps (or of the preprocessor alone)
    and the frames it fed."""
    frames = 0
    _sync(device)
    t0 = time.perf_counter()
    for data in loader:
        if train:
            model.train_step(data, optim_wrapper)
        else:
            with torch.no_grad():
                out = model.data_preprocessor(data, True)
            frames += out['inputs'].shape[0]
    _sync(device)
    return time.perf_counter() - t0, frames


def bench_variant(cfg, args, device, variant) -> dict:
    torch.manual_seed(args.seed)
    model, optim_wrapper, loader = _build(cfg, args.fold, device, variant)
    model.train()
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    _epoch(model, optim_wrapper, loader, device)  # warm-up
    epoch_s = [_epoch(model, optim_wrapper, loader, device)[0]
               for _ in range(args.epochs)]
    data_s, frames = zip(*[_epoch(model, optim_wrapper, loader, device,
                                  train=False) for _ in range(2)])
    med = statistics.median(epoch_s)
    return dict(
        variant=variant, epoch_s=med, epoch_s_all=epoch_s,
        frames_per_epoch=frames[0], clips_per_epoch=len(loader.dataset),
        iters_per_epoch=len(loader), train_frames_per_s=frames[0] / med,
        data_path_s=min(data_s), data_path_share=min(data_s) / med,
        peak_mem_gib=(torch.cuda.max_memory_allocated(device) / 2**30
                      if device.type == 'cuda' else None))


def main(argv=None) -> int:
    from mmengine.registry import init_default_scope
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    rows = []
    for variant in args.variants:
        try:
            rows.append(bench_variant(cfg, args, device, variant))
        except Exception as exc:  # noqa: BLE001  (reported, others go on)
            rows.append(dict(variant=variant,
                             error=f'{type(exc).__name__}: {exc}'))
        print(f'[bench] {json.dumps(rows[-1])}', flush=True)
    meta = dict(config=args.config, fold=args.fold, device=str(device),
                device_name=(torch.cuda.get_device_name(device)
                             if device.type == 'cuda' else 'cpu'),
                torch=torch.__version__, cudnn_benchmark=args.cudnn_benchmark,
                command=' '.join(sys.argv))
    print(f"\nOne fold (held out: {args.fold}) on {meta['device_name']}, "
          f"torch {meta['torch']}")
    print('| variant | epoch (s) | train frames/s | data path / epoch | '
          'peak GiB |')
    print('|---|---|---|---|---|')
    for r in rows:
        if 'error' in r:
            print(f"| {r['variant']} | failed: {r['error'][:80]} | | | |")
            continue
        mem = f"{r['peak_mem_gib']:.1f}" if r['peak_mem_gib'] else 'n/a'
        print(f"| {r['variant']} | {r['epoch_s']:.2f} | "
              f"{r['train_frames_per_s']:.0f} | {r['data_path_share']:.3f} | "
              f'{mem} |')
    if args.out:
        from mmakm.engine import atomic_json_dump
        atomic_json_dump(dict(meta, results=rows), args.out)
    return 0 if rows and all('error' not in r for r in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
