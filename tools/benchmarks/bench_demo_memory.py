"""Peak memory of ``tools/demo.py`` on short and long videos.

    python tools/benchmarks/bench_demo_memory.py [--frames 300 3000]
        [--size 1280x720] [--workdir /tmp/bench_demo_memory]

Writes one mp4 (mp4v) per clip length of a real face photograph
(scikit-image's ``astronaut()``) on a wall at ``--size``, a random-weight
checkpoint of ``configs/akm_synthetic.py`` (the demo's input path does not
depend on the weights), and runs the demo on each video in a fresh process
(face alignment, 144 px). Prints per length the decoded size of the clip
(T x H x W x 3 bytes: what a reader holding every frame needs, twice over
when the frames are stacked for the alignment), the demo's peak resident
memory (``ru_maxrss`` of the child), and the ratio of each peak to the
shortest clip's peak, measured in the same run. A reader that streams
frames keeps that ratio near 1 while the decoded size grows with T.
"""
import argparse
import os
import os.path as osp
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'akm_synthetic.py')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--frames', type=int, nargs='+', default=[300, 3000])
    p.add_argument('--size', default='1280x720', help='WxH of the video')
    p.add_argument('--workdir', default='/tmp/bench_demo_memory')
    return p.parse_args(argv)


def write_video(path: str, frames: int, w: int, h: int) -> None:
    """The face photograph on a grey wall, nodding by a pixel."""
    import cv2
    import numpy as np
    from skimage import data
    face = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    side = min(h, w) // 2
    face = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
    canvas = np.full((h, w, 3), 110, np.uint8)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 30.0,
                             (w, h))
    if not writer.isOpened():
        raise SystemExit(f'error: cannot write a mp4v video to {path}')
    y0, x0 = (h - side) // 2, (w - side) // 2
    for t in range(frames):
        img = canvas.copy()
        dy = t % 2
        img[y0 + dy:y0 + dy + side, x0:x0 + side] = face
        writer.write(img)
    writer.release()


def make_checkpoint(path: str) -> None:
    sys.path.insert(0, REPO)
    from mmengine.runner import set_random_seed

    from mmakm.apis import init_model
    from mmakm.engine import atomic_torch_save
    set_random_seed(0)
    model, _ = init_model(CONFIG, None)
    atomic_torch_save(dict(state_dict=model.state_dict()), path)


def peak_rss_mb(cmd) -> tuple:
    """(peak RSS of ``cmd`` in MB, seconds), in a fresh measuring process
    (``RUSAGE_CHILDREN`` holds the largest child it waited for)."""
    probe = ('import resource, subprocess, sys; '
             'r = subprocess.run(sys.argv[1:], capture_output=True, '
             'text=True); sys.stderr.write(r.stderr[-2000:] if r.returncode '
             'else ""); print(resource.getrusage(resource.RUSAGE_CHILDREN)'
             '.ru_maxrss, r.returncode)')
    start = time.perf_counter()
    out = subprocess.run([sys.executable, '-c', probe, *cmd], check=True,
                         capture_output=True, text=True, cwd=REPO)
    kb, status = out.stdout.split()
    if status != '0':
        raise SystemExit(f'demo failed:\n{out.stderr}')
    return int(kb) / 1024, time.perf_counter() - start


def main(argv=None) -> int:
    args = parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split('x'))
    os.makedirs(args.workdir, exist_ok=True)
    ckpt = osp.join(args.workdir, 'akm_synthetic_random.pth')
    make_checkpoint(ckpt)
    from mmakm.engine.fileio import atomic_path
    rows = []
    for n in sorted(args.frames):
        video = osp.join(args.workdir, f'face_{n}.mp4')
        if not osp.isfile(video):  # complete or absent (a run killed
            with atomic_path(video, suffix='.tmp.mp4') as tmp:  # mid-write)
                write_video(tmp, n, w, h)
        cmd = [sys.executable, osp.join(REPO, 'tools', 'demo.py'), video,
               CONFIG, ckpt, '--out', osp.join(args.workdir, f'{n}.png')]
        peak, took = peak_rss_mb(cmd)
        rows.append((n, n * w * h * 3 / 2 ** 20, peak, took))
    base = rows[0][2]
    print(f'tools/demo.py, {w}x{h} mp4v, face aligned to 144 px, '
          f'{osp.basename(CONFIG)} (random weights)')
    print('| frames | decoded clip (MB) | peak RSS (MB) | peak / '
          f'{rows[0][0]}-frame peak | wall (s) |')
    print('|---|---|---|---|---|')
    for n, decoded, peak, took in rows:
        print(f'| {n} | {decoded:.0f} | {peak:.0f} | {peak / base:.2f} | '
              f'{took:.1f} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
