"""What the runner adds to a LOSO fold's training step.

Trains one fold of CONFIG (default: the CASME II-sized corpus, ``--fold``
held out) for 1 warm-up + ``--epochs`` timed epochs, in one process, by:

* ``plain``: the bare loop ``for data in loader: model.train_step(...)``
  (``bench_device_corpus.py``'s loop);
* ``runner``: the fold's config (``mmakm.loso.derive_fold_cfg``) through
  mmengine's Runner with ``RuntimeInfoHook`` (reads every loss back to the
  host every step);
* ``runner_deferred``: the same with ``DeferredRuntimeInfoHook`` (the
  default runtime's; losses read back at the logging interval only).

and prints the epoch time of each and its ratio to the plain loop.
``--analyse`` adds one more epoch per path under a host <-> device
synchronisation counter (``sync_points.py``: calls per iteration by call
site) and cProfile (Python time per iteration by function); that epoch is
not timed. ``--out`` writes everything as JSON.

Example (CPU, a model that costs little so the runner's share shows)::

    python tools/benchmarks/bench_runner_overhead.py --device cpu \
        --epochs 2 --analyse --cfg-options model.backbone.base_channels=8 \
        corpus.size=40 crop_size=32 ...
"""
import argparse
import copy
import cProfile
import io
import os.path as osp
import pstats
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
import mmakm  # noqa: E402,F401  (stack fixes + registration)
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402

from tools.benchmarks.bench_device_corpus import (  # noqa: E402
    VARIANTS, _build, _sync, add_fold_args)
from tools.benchmarks.sync_points import SyncCounter  # noqa: E402

PATHS = ('plain', 'runner', 'runner_deferred')
RUNTIME_HOOK = dict(runner='RuntimeInfoHook',
                    runner_deferred='DeferredRuntimeInfoHook')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_fold_args(p)
    p.add_argument('--variant', default='bf16_cl', choices=VARIANTS)
    p.add_argument('--epochs', type=int, default=2,
                   help='timed epochs per path (after 1 warm-up)')
    p.add_argument('--paths', nargs='+', default=list(PATHS), choices=PATHS)
    p.add_argument('--analyse', action='store_true',
                   help='one more epoch per path: sync points + cProfile')
    p.add_argument('--top', type=int, default=15)
    p.add_argument('--work-dir', help='runner work dir (default: a temp dir)')
    p.add_argument('--out', help='write the results as JSON here')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


class Probe:
    """Times epochs and runs the analysis epoch (the last, if any)."""

    def __init__(self, device, timed: int, analyse: bool):
        self.device, self.timed, self.analyse = device, timed, analyse
        self.epoch_s, self.iters = [], 0
        self.counter = SyncCounter()
        self.profile = cProfile.Profile()
        self._t0 = None
        self._ctx = None

    def start(self, epoch: int):
        if epoch == 1 + self.timed:  # the analysis epoch
            self._ctx = ExitStack()
            self._ctx.enter_context(self.counter.patched())
            self._ctx.enter_context(self.counter.active())
            self.profile.enable()
            return
        _sync(self.device)
        self._t0 = time.perf_counter()

    def stop(self, epoch: int, iters: int):
        if epoch == 1 + self.timed:
            self.profile.disable()
            self._ctx.close()
            self.iters = iters
            return
        _sync(self.device)
        if epoch >= 1:  # epoch 0 is the warm-up
            self.epoch_s.append(time.perf_counter() - self._t0)

    @property
    def epochs(self) -> int:
        return 1 + self.timed + int(self.analyse)

    def result(self, top: int) -> dict:
        out = dict(epoch_s=statistics.median(self.epoch_s),
                   epoch_s_all=self.epoch_s)
        if self.analyse:
            out['syncs_per_iter'] = self.counter.per_iter(self.iters)
            out['sync_points'] = self.counter.table(self.iters)
            out['profile'] = profile_table(self.profile, self.iters, top)
        return out


def profile_table(profile: cProfile.Profile, iters: int, top: int) -> list:
    """Functions with the most own (tottime) and total time per iteration."""
    stats = pstats.Stats(profile, stream=io.StringIO())
    rows = []
    for (path, line, name), (_, ncalls, tottime, cumtime, _) in \
            stats.stats.items():
        rows.append(dict(function=f'{_site(path)}:{line}({name})',
                         calls_per_iter=ncalls / max(1, iters),
                         own_ms_per_iter=1e3 * tottime / max(1, iters),
                         cum_ms_per_iter=1e3 * cumtime / max(1, iters)))
    by_own = sorted(rows, key=lambda r: -r['own_ms_per_iter'])[:top]
    return by_own


def _site(path: str) -> str:
    for marker in ('site-packages/', 'mmakm/', 'tools/'):
        i = path.rfind(marker)
        if i >= 0:
            return path[i + len(marker):] if marker == 'site-packages/' \
                else path[i:]
    return path


def run_plain(cfg, args, device) -> dict:
    torch.manual_seed(0)
    model, optim_wrapper, loader = _build(cfg, args.fold, device,
                                          args.variant)
    model.train()
    probe = Probe(device, args.epochs, args.analyse)
    for epoch in range(probe.epochs):
        probe.start(epoch)
        for data in loader:
            model.train_step(data, optim_wrapper)
        probe.stop(epoch, len(loader))
    return dict(probe.result(args.top), iters_per_epoch=len(loader))


class _ProbeHook(Hook):
    priority = 'HIGHEST'

    def __init__(self, probe):
        self.probe = probe

    def before_train_epoch(self, runner):
        self.probe.start(runner.epoch)

    def after_train_epoch(self, runner):
        self.probe.stop(runner.epoch, len(runner.train_dataloader))


def fold_config(cfg, args, runtime_hook: str, work_dir: str):
    """The LOSO fold's config as ``tools/loso.py`` writes it, on ``args``'s
    device and variant."""
    import mmakm.engine as engine
    from mmakm.loso import derive_fold_cfg
    fold = derive_fold_cfg(cfg, args.fold, work_dir)
    fold.train_cfg.max_epochs = 2 + args.epochs  # > any run: no final ckpt
    fold.default_hooks.runtime_info = dict(type=runtime_hook)
    fold.default_hooks.checkpoint.interval = 10**6
    fold.default_hooks.checkpoint.save_last = False
    if args.variant != 'fp32':
        fold.optim_wrapper.update(type='AutocastOptimWrapper',
                                  dtype='bfloat16')
    channels_last = args.variant == 'bf16_cl'
    fold.model.backbone.channels_last = channels_last
    fold.model.data_preprocessor.channels_last = channels_last
    fold.launcher = 'none'
    fold.log_level = 'WARNING'
    engine.use_atomic_outputs(fold)
    return fold


def run_runner(cfg, args, device, path: str, work_dir: str) -> dict:
    import mmakm.engine as engine
    fold = fold_config(cfg, args, RUNTIME_HOOK[path],
                       osp.join(work_dir, path))
    if device.type == 'cpu':
        fold.model_wrapper_cfg = None
    probe = Probe(device, args.epochs, args.analyse)
    fold.train_cfg.max_epochs = probe.epochs
    runner = engine.build_runner(fold, 'none')
    runner.register_hook(_ProbeHook(probe))
    runner.train()
    return dict(probe.result(args.top),
                iters_per_epoch=len(runner.train_dataloader))


def main(argv=None) -> int:
    from mmengine.registry import init_default_scope
    args = parse_args(argv)
    if args.device.startswith('cpu'):
        # the Runner follows torch's default device choice
        import os
        os.environ.setdefault('CUDA_VISIBLE_DEVICES', '')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    device = torch.device(args.device)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work_dir = args.work_dir or tmp
        for path in args.paths:
            if path == 'plain':
                r = run_plain(copy.deepcopy(cfg), args, device)
            else:
                r = run_runner(copy.deepcopy(cfg), args, device, path,
                               work_dir)
            results[path] = r
            print(f'[bench] {path}: epoch {r["epoch_s"]:.3f} s, '
                  f'{r["iters_per_epoch"]} iterations', flush=True)
    report(results, args)
    if args.out:
        from mmakm.engine import atomic_json_dump
        atomic_json_dump(dict(vars(args), device_name=_device_name(device),
                              torch=torch.__version__,
                              command=' '.join(sys.argv), results=results),
                         args.out)
    return 0


def _device_name(device) -> str:
    return torch.cuda.get_device_name(device) if device.type == 'cuda' \
        else 'cpu'


def report(results: dict, args) -> None:
    base = results.get('plain', {}).get('epoch_s')
    print(f'\nOne fold (held out {args.fold}), {args.variant}, '
          f'{args.epochs} timed epochs')
    print('| path | epoch (s) | ms / iteration | × plain | syncs / iteration |')
    print('|---|---|---|---|---|')
    for path, r in results.items():
        ratio = f'{r["epoch_s"] / base:.2f}' if base else 'n/a'
        syncs = (f'{r["syncs_per_iter"]:.1f}' if 'syncs_per_iter' in r
                 else 'n/a')
        print(f'| {path} | {r["epoch_s"]:.3f} | '
              f'{1e3 * r["epoch_s"] / r["iters_per_epoch"]:.1f} | {ratio} | '
              f'{syncs} |')
    for path, r in results.items():
        if 'sync_points' not in r:
            continue
        print(f'\n{path}: sync points per iteration (op, call site)')
        for row in r['sync_points']:
            print(f'  {row["per_iter"]:6.2f}  {row["op"]:<18} {row["site"]}')
        print(f'{path}: Python time per iteration, by own time')
        for row in r['profile']:
            print(f'  {row["own_ms_per_iter"]:7.2f} ms own '
                  f'{row["cum_ms_per_iter"]:8.2f} ms cum '
                  f'{row["calls_per_iter"]:7.1f} calls  {row["function"]}')


if __name__ == '__main__':
    sys.exit(main())
