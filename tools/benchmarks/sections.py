"""The measurements of ``tools/benchmark.py``, one function per section.

Each section takes the run context (:class:`Context`) and returns a dict
with ``cases`` (name → timing summary, see :mod:`.timing`), ``ratios``
(name → dict(value, target, met)) and section-specific extras. A section
that raises is reported by the caller and the others still run.
"""
import os.path as osp
import tempfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
import torch

from . import workloads as W
from .timing import interleaved, ratio


@dataclass
class Context:
    """What every section needs: device, sizes, repeats, seed, results."""
    device: torch.device
    lengths: List[int]
    size: int = 128
    repeats: int = 3
    seed: int = 0
    quick: bool = False
    amp: bool = False
    channels_last: bool = False
    infer_chunk: object = 'auto'
    train_chunk: int = 32
    micro_batches: List[int] = field(default_factory=lambda: [1, 128, 256])
    data_root: Optional[str] = None
    results: Dict[str, dict] = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return sum(self.lengths)

    def backbone_opts(self) -> dict:
        return dict(size=self.size, channels_last=self.channels_last,
                    infer_chunk_size=self.infer_chunk)


def _compare(res: dict, num: str, den: str, cpu: bool,
             target: Optional[float] = None,
             lower_is_better: bool = True) -> dict:
    """``num / den`` as the median of per-repeat wall-time ratios; with
    ``cpu`` also of CPU-time ratios (steadier on a loaded machine; only
    meaningful when the work runs on the CPU); checked against ``target``.
    """
    out = dict(value=ratio(res[num]['times_s'], res[den]['times_s']))
    if cpu:
        out['cpu_value'] = ratio(res[num]['cpu_times_s'],
                                 res[den]['cpu_times_s'])
    if target is not None:
        met = (out['value'] <= target if lower_is_better else
               out['value'] >= target)
        out.update(target=target, target_op='<=' if lower_is_better else
                   '>=', met=bool(met))
    return out


def _throughput(case: dict, clips: int, frames: int) -> dict:
    med = case['median_s']
    case.update(clips_per_s=clips / med, frames_per_s=frames / med,
                clips=clips, frames=frames)
    return case


def _singles(clips, samples):
    return [dict(inputs=[c], data_samples=[s])
            for c, s in zip(clips, samples)]


# ------------------------------------------------------------------ AKMNet
def akmnet(ctx: Context) -> dict:
    """AKMNet inference and train step vs the bare per-frame ResNet-18 on
    the same packed frames (default model: RGB, torchvision stem)."""
    cfg = W.akmnet_cfg(**ctx.backbone_opts())
    model = W.build(cfg, ctx.device, ctx.seed)
    bare = W.BareFrameClassifier(cfg).to(ctx.device)
    wrapper = W.optim_wrapper(model, amp=ctx.amp)
    cast = getattr(wrapper, 'cast_dtype', None)  # the same autocast dtype
    bare_opt = torch.optim.SGD(bare.parameters(), lr=1e-3, momentum=0.9,
                               weight_decay=5e-4)
    clips, samples = W.make_clips(ctx.lengths, 3, ctx.size, ctx.seed,
                                  ctx.device)
    data = dict(inputs=clips, data_samples=samples)
    shortest = dict(inputs=[min(clips, key=len)], data_samples=samples[:1])
    cases = dict(
        bare_infer=W.bare_test_step(bare, data),
        akmnet_infer=W.test_step(model, data),
        bare_train=W.bare_train_step(bare, data, bare_opt, cast),
        akmnet_train=W.train_step(model, data, wrapper))
    warm = dict(
        bare_infer=W.bare_test_step(bare, shortest),
        akmnet_infer=W.test_step(model, shortest),
        bare_train=W.bare_train_step(bare, shortest, bare_opt, cast),
        akmnet_train=W.train_step(model, shortest, wrapper))
    if not ctx.quick:
        # the packing claims: a batch costs what its clips cost one at a
        # time, and zero-padding to the longest clip would cost more
        singles = _singles(clips, samples)
        one_by_one = [W.test_step(model, d) for d in singles]
        max_t = max(ctx.lengths)
        padded = dict(inputs=[torch.zeros_like(clips[0][:1]).expand(
            max_t, *clips[0].shape[1:]).contiguous()] * len(clips),
                      data_samples=samples)
        cases['akmnet_infer_one_by_one'] = lambda: [f() for f in one_by_one]
        cases['bare_infer_padded'] = W.bare_test_step(bare, padded)
        warm['akmnet_infer_one_by_one'] = warm['akmnet_infer']
        warm['bare_infer_padded'] = warm['bare_infer']
    res = interleaved(cases, ctx.repeats, ctx.device, warmup=warm,
                      measure_memory=True)
    n, frames = len(ctx.lengths), ctx.frames
    for name, case in res.items():
        if name == 'bare_infer_padded':
            _throughput(case, n, n * max(ctx.lengths))
        else:
            _throughput(case, n, frames)
    cpu = ctx.device.type == 'cpu'
    ratios = dict(
        infer_akmnet_vs_bare=_compare(res, 'akmnet_infer', 'bare_infer', cpu,
                                      1.05),
        train_akmnet_vs_bare=_compare(res, 'akmnet_train', 'bare_train', cpu,
                                      1.10))
    if 'akmnet_infer_one_by_one' in res:
        ratios['infer_batch_vs_one_by_one'] = _compare(
            res, 'akmnet_infer', 'akmnet_infer_one_by_one', cpu, 1.05)
        ratios['infer_padded_vs_packed_backbone'] = dict(
            _compare(res, 'bare_infer_padded', 'bare_infer', cpu),
            frames_ratio=n * max(ctx.lengths) / frames)
    return dict(cases=res, ratios=ratios)


# -------------------------------------------------- the authors' training
def _official_settings(ctx: Context, train_cfg: Optional[dict] = None,
                       **backbone) -> dict:
    """mmakm's AKMNet configured as the authors' code runs (gray, 5×5
    stem, 1/255, their threshold and gradient rule)."""
    backbone.setdefault('infer_chunk_size', ctx.infer_chunk)
    return W.official_cfg(ctx.size, train_cfg=train_cfg, **backbone)


def _official_variants(ctx: Context) -> Dict[str, dict]:
    """mmakm's train steps of the ``official`` section: name → options."""
    variants = dict(mmakm_packed=dict(train_chunk_size=0))
    if ctx.train_chunk:
        variants[f'mmakm_packed_chunk{ctx.train_chunk}'] = dict(
            train_chunk_size=ctx.train_chunk)
    for frames in ctx.micro_batches:
        name = 'mmakm_micro_clip' if frames == 1 else f'mmakm_micro{frames}'
        variants[name] = dict(train_cfg=dict(micro_batch_frames=frames))
    return variants


def official(ctx: Context) -> dict:
    """Train step in the official settings: mmakm's packed batch (BN over
    the whole batch, and BN per ``train_chunk`` frames), mmakm's
    micro-batched step (forward + backward per group of whole clips of at
    most N frames, one SGD step; N = 1: one clip per group) vs the
    reference of the authors' code trained as they train it, one clip per
    forward + gradient accumulation over the batch; same starting
    weights."""
    from mmakm.testing import OfficialAKMNet, copy_to_akmnet
    clips, samples = W.make_clips(ctx.lengths, 1, ctx.size, ctx.seed,
                                  ctx.device)
    data = dict(inputs=clips, data_samples=samples)
    shortest = dict(inputs=[min(clips, key=len)], data_samples=samples[:1])
    torch.manual_seed(ctx.seed)
    theirs = OfficialAKMNet(spatial_size=ctx.size // 32).to(ctx.device)
    variants = _official_variants(ctx)
    cases, warm = {}, {}
    for name, opts in variants.items():
        cfg = _official_settings(ctx, channels_last=ctx.channels_last,
                                 **opts)
        model = W.build(cfg, ctx.device, ctx.seed)
        # same weights: the same key frames, the same head work
        copy_to_akmnet(theirs, model)
        wrapper = W.optim_wrapper(model, amp=ctx.amp)
        cases[name] = W.train_step(model, data, wrapper)
        warm[name] = W.train_step(model, shortest, wrapper)
    accumulation = W.OfficialAccumulation(theirs)
    cases['authors_accumulated'] = accumulation.step(clips, samples)
    warm['authors_accumulated'] = accumulation.step(shortest['inputs'],
                                                    samples[:1])
    res = interleaved(cases, ctx.repeats, ctx.device, warmup=warm,
                      measure_memory=True)
    for case in res.values():
        _throughput(case, len(ctx.lengths), ctx.frames)
    cpu = ctx.device.type == 'cpu'
    target = 1.0 if cpu else 3.0
    ratios = {
        f'{name}_speedup_vs_authors_accumulated': _compare(
            res, 'authors_accumulated', name, cpu, target,
            lower_is_better=False)
        for name in variants}
    return dict(cases=res, ratios=ratios)


def options(ctx: Context) -> dict:
    """The packed train step (official settings) under each speed option:
    channels_last, bf16/fp16 autocast, BN chunks of 16/32/64 frames
    (not in the default run: one train step per option and repeat)."""
    clips, samples = W.make_clips(ctx.lengths, 1, ctx.size, ctx.seed,
                                  ctx.device)
    data = dict(inputs=clips, data_samples=samples)
    shortest = dict(inputs=[min(clips, key=len)], data_samples=samples[:1])
    variants = dict(
        default={}, channels_last=dict(channels_last=True),
        amp=dict(amp=True),
        channels_last_amp=dict(channels_last=True, amp=True),
        chunk16=dict(train_chunk_size=16), chunk32=dict(train_chunk_size=32),
        chunk64=dict(train_chunk_size=64))
    cases, warm = {}, {}
    for name, opts in variants.items():
        opts = dict(opts)
        amp = opts.pop('amp', False)
        cfg = _official_settings(ctx, **opts)
        model = W.build(cfg, ctx.device, ctx.seed)
        wrapper = W.optim_wrapper(model, amp=amp)
        cases[name] = W.train_step(model, data, wrapper)
        warm[name] = W.train_step(model, shortest, wrapper)
    res = interleaved(cases, ctx.repeats, ctx.device, warmup=warm,
                      measure_memory=True)
    for case in res.values():
        _throughput(case, len(ctx.lengths), ctx.frames)
    cpu = ctx.device.type == 'cpu'
    ratios = {f'{name}_vs_default': _compare(res, name, 'default', cpu)
              for name in variants if name != 'default'}
    return dict(cases=res, ratios=ratios)


# ---------------------------------------------------------- TSN and I3D
def models(ctx: Context) -> dict:
    """TSN-R18 (8 segments) and I3D-R50 (16 frames) on the same 8 clips as
    users run them; AKMNet's figures come from the ``akmnet`` section."""
    n = len(ctx.lengths)
    gen = torch.Generator().manual_seed(ctx.seed)
    from mmaction.structures import ActionDataSample
    samples = [ActionDataSample().set_gt_label(i % 4) for i in range(n)]
    specs = dict(
        tsn_r18=('tsn_r18', (8, 3, ctx.size, ctx.size), 8),
        i3d_r50=('i3d_r50', (1, 3, 16, ctx.size, ctx.size), 16))
    cases, warm, frames = {}, {}, {}
    for name, (cfg_name, shape, per_clip) in specs.items():
        model = W.build(W.mmaction_cfg(cfg_name), ctx.device, ctx.seed)
        if ctx.channels_last and len(shape) == 4:
            model.to(memory_format=torch.channels_last)
        wrapper = W.optim_wrapper(model, amp=ctx.amp)
        inputs = [torch.randint(0, 256, shape, dtype=torch.uint8,
                                generator=gen).to(ctx.device)
                  for _ in range(n)]
        data = dict(inputs=inputs, data_samples=samples)
        one = dict(inputs=inputs[:1], data_samples=samples[:1])
        cases[f'{name}_train'] = W.train_step(model, data, wrapper)
        cases[f'{name}_infer'] = W.test_step(model, data)
        warm[f'{name}_train'] = W.train_step(model, one, wrapper)
        warm[f'{name}_infer'] = W.test_step(model, one)
        frames[name] = per_clip * n
    res = interleaved(cases, ctx.repeats, ctx.device, warmup=warm,
                      measure_memory=True)
    for name, case in res.items():
        _throughput(case, n, frames[name.rsplit('_', 1)[0]])
    own = ctx.results.get('akmnet', {}).get('cases', {})
    for mode in ('train', 'infer'):
        if f'akmnet_{mode}' in own:
            res[f'akmnet_{mode}'] = dict(own[f'akmnet_{mode}'],
                                        source='akmnet section')
    return dict(cases=res, ratios={})


# ------------------------------------------------------- cost vs length
def length(ctx: Context) -> dict:
    """AKMNet cost of one clip of T frames, T = 16 … 256, and a linear fit
    ``time = slope·T + intercept`` (inference; train step too on CUDA)."""
    ts = (16, 64, 256) if ctx.quick else (16, 32, 64, 128, 256)
    cfg = W.akmnet_cfg(**ctx.backbone_opts())
    model = W.build(cfg, ctx.device, ctx.seed)
    wrapper = W.optim_wrapper(model, amp=ctx.amp)
    modes = ('infer', 'train') if ctx.device.type == 'cuda' else ('infer', )
    cases = {}
    for t in ts:
        clips, samples = W.make_clips([t], 3, ctx.size, ctx.seed,
                                      ctx.device)
        data = dict(inputs=clips, data_samples=samples)
        cases[f'infer_T{t}'] = W.test_step(model, data)
        if 'train' in modes:
            cases[f'train_T{t}'] = W.train_step(model, data, wrapper)
    short = W.make_clips([ts[0]], 3, ctx.size, ctx.seed, ctx.device)
    short = dict(inputs=short[0], data_samples=short[1])
    warm = {'infer': W.test_step(model, short),
            'train': W.train_step(model, short, wrapper)}
    res = interleaved(cases, ctx.repeats, ctx.device,
                      warmup={m: warm[m] for m in modes})
    fits = {}
    for mode in modes:
        x = np.array(ts, dtype=float)
        y = np.array([res[f'{mode}_T{t}']['median_s'] * 1e3 for t in ts])
        fits[mode] = dict(_linear_fit(x, y), lengths=list(ts),
                          median_ms=y.tolist())
        if ctx.device.type == 'cpu':  # CPU time: steadier under load
            y = np.array([res[f'{mode}_T{t}']['cpu_median_s'] * 1e3
                          for t in ts])
            fits[f'{mode}_cpu_time'] = dict(_linear_fit(x, y),
                                            lengths=list(ts),
                                            median_ms=y.tolist())
    for t in ts:
        for mode in modes:
            _throughput(res[f'{mode}_T{t}'], 1, t)
    return dict(cases=res, ratios={}, fits=fits)


def _linear_fit(x: np.ndarray, y: np.ndarray) -> dict:
    """Least-squares ``y = slope·x + intercept`` and its R²."""
    slope, intercept = np.polyfit(x, y, 1)
    ss_res = float(((y - (slope * x + intercept))**2).sum())
    ss_tot = float(((y - y.mean())**2).sum())
    return dict(slope_ms_per_frame=float(slope),
                intercept_ms=float(intercept),
                r2=1 - ss_res / ss_tot if ss_tot > 0 else 1.0)


# ---------------------------------------------------------- data pipeline
def _write_frame_cache(dataset, cache_dir: str, size: int = 144) -> None:
    """The preprocessed frame cache of ``dataset`` (every frame resized to
    ``size``², no face alignment): what ``tools/preprocess.py`` reads into
    the same pipeline, for timing only."""
    import cv2

    from mmakm.preprocessing.cache import write_clip
    from mmakm.preprocessing.runner import decode_clip
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        frames, numbers = decode_clip(info)
        small = np.stack([cv2.resize(f, (size, size),
                                     interpolation=cv2.INTER_AREA)
                          for f in frames])
        write_clip(cache_dir, info['cache_key'], small, np.asarray(numbers))


def data(ctx: Context) -> dict:
    """Frames/s of the AKMNet training pipeline (decode, resize 144, crop
    128, flip) with 0/1/2 loader workers on JPEGs in the CASME II layout
    and on the preprocessed frame cache, against the model's training
    frames/s."""
    from mmaction.registry import DATASETS
    from mmengine.config import Config
    root = ctx.data_root
    tmp = tempfile.TemporaryDirectory(prefix='mmakm-bench-')
    if root is None:
        root = osp.join(tmp.name, 'casme2')
        from mmakm.datasets.synthetic import make_synthetic_casme2
        # 4 batches of clips of the model sections' length range (worker
        # start-up amortised over an epoch of several batches); frames
        # larger than the 144-px resize, like the shipped corpora
        make_synthetic_casme2(
            root, seed=ctx.seed, n_subjects=4,
            clips_per_subject=len(ctx.lengths),
            size=ctx.size + 64, min_len=max(min(ctx.lengths), 4),
            max_len=max(max(ctx.lengths), 4), video=False)
    try:
        from mmakm.preprocessing.throughput import pipeline_fps
        pipes = Config.fromfile(
            osp.join(W.REPO, 'configs/_base_/datasets/me_pipelines.py'))
        base = dict(type='CASME2Dataset', data_root=root,
                    class_setup='paper4', pipeline=pipes.train_pipeline)
        sources = dict(jpeg=DATASETS.build(base))
        cache_dir = osp.join(tmp.name, 'cache')
        _write_frame_cache(sources['jpeg'], cache_dir)
        sources['cache'] = DATASETS.build(dict(base, cache_dir=cache_dir))
        workers = (0, 2) if ctx.quick else (0, 1, 2)
        counted = {}

        def epoch(source, num_workers):
            def run():
                counted[source] = pipeline_fps(
                    sources[source], num_workers=num_workers,
                    batch_size=len(ctx.lengths), passes=1,
                    seed=ctx.seed)['frames']
            return run

        cases = {f'{src}_workers{w}': epoch(src, w)
                 for w in workers for src in sources}
        res = interleaved(cases, ctx.repeats, torch.device('cpu'),
                          warmup={src: epoch(src, 0) for src in sources})
        clips = len(sources['jpeg'])
        for name, case in res.items():
            _throughput(case, clips, counted[name.split('_')[0]])
        out = dict(cases=res, ratios={}, clips=clips,
                   frames=counted['jpeg'],
                   corpus=root if ctx.data_root else
                   'synthetic CASME II layout (temporary)')
        for w in workers:
            out['ratios'][f'cache_speedup_vs_jpeg_workers{w}'] = _compare(
                res, f'jpeg_workers{w}', f'cache_workers{w}', cpu=False)
        model_train = ctx.results.get('akmnet', {}).get('cases', {}).get(
            'akmnet_train')
        if model_train is not None:
            model_fps = model_train['frames_per_s']
            for name, case in res.items():
                value = case['frames_per_s'] / model_fps
                out['ratios'][f'{name}_vs_model_train'] = dict(
                    value=value, target=1.0, target_op='>=',
                    met=bool(value >= 1.0))
        return out
    finally:
        tmp.cleanup()


SECTIONS = dict(akmnet=akmnet, official=official, models=models,
                length=length, data=data, options=options)
#: what ``tools/benchmark.py`` runs without ``--sections``
DEFAULT_SECTIONS = ('akmnet', 'official', 'models', 'length', 'data')
