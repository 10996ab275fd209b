#!/usr/bin/env python
"""Where an AKMNet training step spends its time, next to the bare backbone.

One torch.profiler run of a few training steps (forward, backward, SGD) of
AKMNet and of the bare per-frame ResNet-18 on the same packed clips
(``tools/benchmark.py``'s ``akmnet`` section workload). Per model it prints
and saves:

* wall time a step, the device's kernel time a step and their ratio (how
  busy the GPU is: a step whose kernels fill half its wall time waits on
  the host — launches or synchronisation — the other half);
* kernels launched a step (on the CPU: aten operators dispatched, the
  count a GPU would launch kernels for);
* the forward of each part (``data_preprocessor``, ``backbone``, ``neck``,
  ``cls_head``, ``loss_aux``), marked by ``record_function`` ranges: device
  and host time a step;
* the backward by autograd node (``CudnnRnnBackward0`` is the GRU,
  ``ConvolutionBackward0`` the backbone, ...), and the operators with the
  most device time.

    python tools/benchmarks/profile_train_step.py --device cuda \\
        --variants fp32 amp_cl --out profile.json
    python tools/benchmarks/profile_train_step.py --device cpu --size 64 --clips 4

On the CPU "device time" is the operators' own CPU time.
"""
import argparse
import contextlib
import os.path as osp
import sys
import time
from typing import Iterator, List

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile, record_function  # noqa: E402,E501

import mmakm  # noqa: E402,F401  (stack fixes + registration)
from benchmarks import workloads as W  # noqa: E402
from benchmarks.timing import synchronize  # noqa: E402
from mmakm.engine.fileio import atomic_json_dump  # noqa: E402

PARTS = ('data_preprocessor', 'backbone', 'neck', 'cls_head', 'loss_aux',
         'fc')
BACKWARD = 'autograd::engine::evaluate_function: '
VARIANTS = dict(fp32=dict(amp=False, channels_last=False),
                amp=dict(amp=True, channels_last=False),
                amp_cl=dict(amp=True, channels_last=True))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available()
                   else 'cpu')
    p.add_argument('--clips', type=int, default=8)
    p.add_argument('--min-len', type=int, default=24)
    p.add_argument('--max-len', type=int, default=141)
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--steps', type=int, default=3,
                   help='profiled steps a model (after 2 warm-up steps)')
    p.add_argument('--variants', nargs='+', default=['fp32'],
                   choices=sorted(VARIANTS),
                   help='fp32; amp (bf16 autocast, fp16 where bf16 is '
                   'unsupported); amp_cl (amp + channels_last)')
    p.add_argument('--rows', type=int, default=12,
                   help='operators and backward nodes listed a model')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1,
                   help='torch CPU threads (default 1)')
    p.add_argument('--out', help='write the figures as JSON here')
    return p.parse_args(argv)


@contextlib.contextmanager
def part_ranges(model: torch.nn.Module) -> Iterator[None]:
    """Mark the forward of each part of ``model`` (:data:`PARTS`) with a
    ``record_function`` range named after it."""
    handles, open_ranges = [], {}

    def enter(name):
        def hook(module, args):
            open_ranges[name] = record_function(name)
            open_ranges[name].__enter__()
        return hook

    def leave(name):
        def hook(module, args, output):
            open_ranges.pop(name).__exit__(None, None, None)
        return hook

    for name in PARTS:
        module = getattr(model, name, None)
        if isinstance(module, torch.nn.Module):
            handles += [module.register_forward_pre_hook(enter(name)),
                        module.register_forward_hook(leave(name))]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _device_us(event, self_only: bool = False) -> float:
    """Device time (µs) of a profiler event or average, over torch
    versions (``device_time_total`` since 2.4, ``cuda_time_total`` before).
    """
    for name in (('self_device_time_total', 'self_cuda_time_total')
                 if self_only else ('device_time_total', 'cuda_time_total')):
        if hasattr(event, name):
            return float(getattr(event, name))
    return 0.0


def summarise(prof, steps: int, wall_s: float, on_gpu: bool,
              rows: int) -> dict:
    """The figures of one profiled model (see the module docstring)."""
    averages = prof.key_averages()

    def device_ms(e, self_only=False):
        if on_gpu:
            return _device_us(e, self_only) / 1e3 / steps
        return (e.self_cpu_time_total if self_only else
                e.cpu_time_total) / 1e3 / steps

    if on_gpu:
        kernels = [e for e in prof.events()
                   if e.device_type == torch.autograd.DeviceType.CUDA]
        kernel_ms = sum(e.time_range.elapsed_us() for e in kernels) / 1e3
        launched = len(kernels)
    else:
        ops = [e for e in averages if e.key.startswith('aten::')]
        kernel_ms = sum(e.self_cpu_time_total for e in ops) / 1e3
        launched = sum(e.count for e in ops)
    wall_ms = wall_s * 1e3 / steps
    parts = {e.key: dict(device_ms=device_ms(e),
                         cpu_ms=e.cpu_time_total / 1e3 / steps)
             for e in averages if e.key in PARTS}
    backward = sorted(
        (dict(node=e.key[len(BACKWARD):], calls=e.count / steps,
              device_ms=device_ms(e)) for e in averages
         if e.key.startswith(BACKWARD)),
        key=lambda r: -r['device_ms'])
    operators = sorted(
        (dict(name=e.key, calls=e.count / steps,
              device_ms=device_ms(e, self_only=True))
         for e in averages if not e.key.startswith(BACKWARD)
         and e.key not in PARTS and not e.key.startswith('ProfilerStep')),
        key=lambda r: -r['device_ms'])
    return dict(wall_ms=wall_ms, kernel_ms=kernel_ms / steps,
                busy=kernel_ms / steps / wall_ms,
                launches=launched / steps, parts=parts,
                backward=backward[:rows], operators=operators[:rows])


def profile_step(step, steps: int, device: torch.device) -> tuple:
    """Profile ``steps`` calls of ``step``; returns (profiler, wall s)."""
    activities = [ProfilerActivity.CPU]
    if device.type == 'cuda':
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        synchronize(device)
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        synchronize(device)
        wall = time.perf_counter() - t0
    return prof, wall


def print_model(name: str, res: dict, unit: str) -> None:
    print(f'\n{name}: {res["wall_ms"]:.1f} ms a step, {unit} '
          f'{res["kernel_ms"]:.1f} ms ({100 * res["busy"]:.0f} % busy), '
          f'{res["launches"]:.0f} launches a step')
    for part, t in res['parts'].items():
        print(f'  forward {part:<18} {unit} {t["device_ms"]:8.2f} ms   '
              f'host {t["cpu_ms"]:8.2f} ms')
    for row in res['backward']:
        print(f'  backward {row["node"]:<32} {unit} {row["device_ms"]:8.2f} '
              f'ms  ({row["calls"]:.0f}x)')
    for row in res['operators']:
        print(f'  op {row["name"]:<38} {unit} {row["device_ms"]:8.2f} ms  '
              f'({row["calls"]:.0f}x)')


def profile_variant(args, lengths: List[int], device: torch.device,
                    amp: bool, channels_last: bool) -> dict:
    """Profile AKMNet's and the bare backbone's training step."""
    cfg = W.akmnet_cfg(size=args.size, channels_last=channels_last)
    model = W.build(cfg, device, args.seed)
    bare = W.BareFrameClassifier(cfg).to(device)
    wrapper = W.optim_wrapper(model, amp=amp)
    bare_opt = torch.optim.SGD(bare.parameters(), lr=1e-3, momentum=0.9,
                               weight_decay=5e-4)
    clips, samples = W.make_clips(lengths, 3, args.size, args.seed, device)
    data = dict(inputs=clips, data_samples=samples)
    steps = dict(
        akmnet=(model, W.train_step(model, data, wrapper)),
        bare=(bare, W.bare_train_step(bare, data, bare_opt,
                                      getattr(wrapper, 'cast_dtype', None))))
    unit = 'GPU' if device.type == 'cuda' else 'CPU'
    results = dict(amp=amp, channels_last=channels_last, models={})
    for name, (module, step) in steps.items():
        for _ in range(2):  # warm-up: allocator, cuDNN plans
            step()
        with part_ranges(module):
            prof, wall = profile_step(step, args.steps, device)
        res = summarise(prof, args.steps, wall, device.type == 'cuda',
                        args.rows)
        results['models'][name] = res
        print_model(name, res, unit)
    a, b = results['models']['akmnet'], results['models']['bare']
    results['akmnet_vs_bare'] = r = dict(
        wall=a['wall_ms'] / b['wall_ms'],
        kernel=a['kernel_ms'] / b['kernel_ms'],
        launches=a['launches'] / b['launches'])
    print(f'\nAKMNet / bare: wall {r["wall"]:.2f}x, {unit} time '
          f'{r["kernel"]:.2f}x, launches {r["launches"]:.2f}x')
    return results


def main(argv=None) -> dict:
    """Profile every variant; returns (and with ``--out`` saves) the
    figures, ``variants[name]`` as :func:`profile_variant` returns them."""
    args = parse_args(argv)
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    MMLogger.get_instance('mmakm_profile', log_level='WARNING')
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    lengths: List[int] = W.draw_lengths(args.clips, args.min_len,
                                        args.max_len, args.seed)
    results = dict(device=str(device), torch=torch.__version__,
                   gpu=torch.cuda.get_device_name(device)
                   if device.type == 'cuda' else None, lengths=lengths,
                   size=args.size, steps=args.steps, variants={})
    for variant in args.variants:
        print(f'=== {variant}: {len(lengths)} clips, {sum(lengths)} frames '
              f'({lengths}), {args.size} px, {device}, torch '
              f'{torch.__version__}')
        results['variants'][variant] = profile_variant(
            args, lengths, device, **VARIANTS[variant])
    if args.out:
        atomic_json_dump(results, args.out)
    return results


if __name__ == '__main__':
    main()
