"""Training-step times behind the README walkthrough's step 2 and 3 figures.

    python tools/benchmarks/bench_walkthrough.py [--repeats 2] [--threads 1]

Times, in one process, a few training iterations (forward, backward, SGD;
the model's own ``train_step``) of

* step 2, macro-expression pretraining (``configs/pretrain/
  frameresnet_affectnet4.py``): FrameResNet-18 at full width on a batch of
  32 face images of 128 px;
* step 3, the paper AKMNet recipe (``configs/akm_casme2.py``): 8 clips of
  CASME II-like lengths (24-141 frames, mean 88), every frame, 128 px,

and prints the median seconds per iteration, per image / frame, and the
extrapolation to the walkthrough's counts (AffectNet 4 x 1000 images x
20 epochs; CASME II LOSO: 26 folds x 40 epochs of the class-balanced
training set). ``--threads 1`` is how ``tools/loso.py`` runs a fold
(two folds in parallel on two cores).
"""
import argparse
import os.path as osp
import sys
import time

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
import mmakm  # noqa: E402,F401

from tools.benchmarks.workloads import (akmnet_cfg, build,  # noqa: E402
                                        draw_lengths, make_clips,
                                        optim_wrapper, train_step)

#: CASME II, paper 4 classes (docs: shared datasets notes): others 126
#: (others + repression) is the largest class, so the class-balanced epoch
#: of a LOSO fold is 4 x 126 x 25/26 clips; clips average 17 k / 255 frames
CASME2 = dict(folds=26, epochs=40, clips_per_epoch=4 * 126 * 25 / 26,
              frames_per_clip=17000 / 255)
AFFECTNET = dict(images=4 * 1000, epochs=20)


def time_step(step, repeats: int) -> float:
    step()  # warm-up (allocations, oneDNN kernels)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def pretrain_step(repeats: int, batch: int = 32, size: int = 128) -> float:
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/pretrain/frameresnet_affectnet4.py')).model.to_dict()
    model = build(cfg, torch.device('cpu'))
    clips, samples = make_clips([1] * batch, 3, size, 0, torch.device('cpu'))
    data = dict(inputs=clips, data_samples=samples)
    return time_step(train_step(model, data, optim_wrapper(model)), repeats)


def akmnet_step(repeats: int, size: int = 128):
    lengths = draw_lengths(8, 24, 141, 0)
    model = build(akmnet_cfg(size), torch.device('cpu'))
    clips, samples = make_clips(lengths, 3, size, 0, torch.device('cpu'))
    data = dict(inputs=clips, data_samples=samples)
    return time_step(train_step(model, data, optim_wrapper(model)),
                     repeats), sum(lengths)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--repeats', type=int, default=2)
    p.add_argument('--threads', type=int, default=1)
    args = p.parse_args(argv)
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    # no per-parameter init report
    MMLogger.get_current_instance().setLevel('WARNING')
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    s_pre = pretrain_step(args.repeats)
    per_image = s_pre / 32
    images = AFFECTNET['images'] * AFFECTNET['epochs']
    print(f'step 2 pretraining: {s_pre:.2f} s per iteration of 32 images '
          f'({per_image * 1e3:.0f} ms per image) x {images} images '
          f'(4 x 1000 x 20 epochs) = {per_image * images / 3600:.1f} h')
    s_akm, frames = akmnet_step(args.repeats)
    per_frame = s_akm / frames
    total = (CASME2['folds'] * CASME2['epochs'] * CASME2['clips_per_epoch'] *
             CASME2['frames_per_clip'])
    print(f'step 3 AKMNet paper recipe: {s_akm:.1f} s per iteration of 8 '
          f'clips, {frames} frames ({per_frame * 1e3:.0f} ms per frame) x '
          f'{total / 1e6:.1f} M frames (26 folds x 40 epochs x '
          f"{CASME2['clips_per_epoch']:.0f} clips x "
          f"{CASME2['frames_per_clip']:.0f} frames) = "
          f'{per_frame * total / 86400:.1f} days in one process; two folds '
          f'in parallel: {per_frame * total / 86400 / 2:.1f} days')
    print(f'torch {torch.__version__}, {args.threads} thread(s), '
          f'median of {args.repeats} after a warm-up')


if __name__ == '__main__':
    main()
