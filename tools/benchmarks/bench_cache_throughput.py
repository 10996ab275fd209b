"""Training-pipeline frames/s on the preprocessed cache vs the shipped JPEGs.

Writes a CASME II-layout corpus (``--clips`` clips of ``--frames`` frames,
640x480 JPEG quality 95, a smooth random texture) and its frame cache
(uint8 (T, 144, 144, 3) ``.npy`` per clip, what ``tools/preprocess.py``
writes), then runs the paper's training pipeline (all frames, resize 144,
random crop 128, flip) over both with 0, 1 and 2 loader workers
(:func:`mmakm.preprocessing.throughput.pipeline_fps`, best of 2 passes) and
prints frames/s and the cache/JPEG ratio measured in the same run.

Example::

    python tools/benchmarks/bench_cache_throughput.py --clips 8 --frames 60
"""
import argparse
import os
import os.path as osp
import sys
import tempfile

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
import mmakm  # noqa: E402,F401  (stack fixes + registration)
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--clips', type=int, default=8)
    p.add_argument('--frames', type=int, default=60)
    p.add_argument('--workers', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args(argv)


def write_corpus(root: str, cache: str, clips: int, frames: int,
                 seed: int) -> None:
    import openpyxl
    from mmakm.preprocessing.cache import write_clip
    rng = np.random.default_rng(seed)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = 'Sheet1'
    ws.append(['Subject', 'Filename', 'OnsetFrame', 'ApexFrame',
               'OffsetFrame', 'Action Units', 'Estimated Emotion'])
    emotions = ['happiness', 'disgust', 'surprise', 'others']
    for c in range(clips):
        sub, clip, on = c % 4 + 1, f'EP{c:02d}_01', 10
        ws.append([sub, clip, on, on + frames // 2, on + frames - 1, '12',
                   emotions[c % 4]])
        tex = cv2.GaussianBlur(rng.integers(0, 255, (480, 640, 3),
                                            dtype=np.uint8), (0, 0), 3)
        folder = osp.join(root, 'CASME2_RAW', f'sub{sub:02d}', clip)
        os.makedirs(folder, exist_ok=True)
        small = []
        for t in range(frames):
            img = np.roll(tex, t % 3, axis=1)  # a little motion
            cv2.imwrite(osp.join(folder, f'img{on + t}.jpg'), img,
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            small.append(cv2.resize(img[:, 80:560], (144, 144),
                                    interpolation=cv2.INTER_AREA))
        write_clip(cache, f'casme2/sub{sub:02d}/{clip}',
                   np.stack(small)[..., ::-1], np.arange(on, on + frames))
    wb.save(osp.join(root, 'CASME2-coding-20140508.xlsx'))


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmaction.registry import DATASETS
    from mmakm.preprocessing.throughput import pipeline_fps
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'akm_casme2.py'))
    init_default_scope('mmaction')
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = osp.join(tmp, 'casme2'), osp.join(tmp, 'cache')
        write_corpus(root, cache, args.clips, args.frames, args.seed)
        base = dict(cfg.train_dataloader.dataset, data_root=root)
        sources = dict(jpeg=DATASETS.build(dict(base, cache_dir=None)),
                       cache=DATASETS.build(dict(base, cache_dir=cache)))
        print(f'{args.clips} clips x {args.frames} frames; JPEG 640x480 vs '
              'cache 144x144; paper train pipeline (resize 144, crop 128, '
              'flip)\n')
        print('| workers | JPEG frames/s | cache frames/s | cache / JPEG |')
        print('|---|---|---|---|')
        for w in args.workers:
            fps = {k: pipeline_fps(ds, num_workers=w, seed=args.seed)['fps']
                   for k, ds in sources.items()}
            print(f"| {w} | {fps['jpeg']:.0f} | {fps['cache']:.0f} | "
                  f"{fps['cache'] / fps['jpeg']:.1f}x |")
    return 0


if __name__ == '__main__':
    sys.exit(main())
