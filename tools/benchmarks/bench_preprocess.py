"""Cost of tools/preprocess.py per frame, and the residual head motion with
and without stabilisation.

Fabricates the test suite's CASME II-layout corpus made from a real face
photograph (tests/preprocessing/face_corpus.py: 640x480 JPEGs, known head
pose per clip, 1.5 px mouth movement) with ``--frames`` frames per clip and
a per-frame head jitter of +-``--drift`` px, then preprocesses it with
(a) alignment only, (b) alignment + ECC stabilisation, (c) alignment +
phase magnification alpha = 15 (the paper recipe), each into a fresh cache,
and prints seconds per clip, frames/s and the mean rigid motion (px, in
the 144 px crop) of the frames relative to the onset before and after
stabilisation; then the alignment error of (a): the hand-annotated pupils
of the photograph mapped through the known head pose and the estimated
alignment, against their target positions.

Example::

    python tools/benchmarks/bench_preprocess.py --frames 40 --drift 2
"""
import argparse
import os.path as osp
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
sys.path.insert(0, osp.join(REPO, 'tests', 'preprocessing'))
import mmakm  # noqa: E402,F401  (stack fixes + registration)
from mmengine.registry import init_default_scope  # noqa: E402

RECIPES = {
    '(a) align': dict(face=dict(), stabilise=None, magnify=None),
    '(b) align + stabilise': dict(face=dict(), stabilise=dict(),
                                  magnify=None),
    '(c) align + phase magnify (paper)': dict(
        face=dict(), stabilise=None, magnify=dict(type='phase', alpha=15)),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--frames', type=int, default=40)
    p.add_argument('--drift', type=float, default=2.0)
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import face_corpus as fc
    from mmakm.datasets import CASME2Dataset
    from mmakm.preprocessing.runner import preprocess_dataset
    init_default_scope('mmaction')
    clips = [c[:2] + (10, 10 + args.frames // 2, 10 + args.frames - 1) +
             c[5:] for c in fc.CLIPS]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = osp.join(tmp, 'casme2')
        truth = fc.make_face_casme2(corpus, clips=clips,
                                    drift_px=args.drift, seed=args.seed)
        ds = CASME2Dataset(data_root=corpus, class_setup='paper4')
        n_frames = sum(ds.get_data_info(i)['total_frames']
                       for i in range(len(ds)))
        print(f'{len(ds)} clips x {args.frames} frames, 640x480 JPEG, head '
              f'jitter +-{args.drift} px per frame\n')
        print('| recipe | s / clip | frames/s | motion before (px) | '
              'after (px) |')
        print('|---|---|---|---|---|')
        for name, recipe in RECIPES.items():
            start = time.perf_counter()
            rep = preprocess_dataset(ds, osp.join(tmp, name[1]), recipe,
                                     log=lambda *_: None)['casme2']
            took = time.perf_counter() - start
            s = rep['summary']
            assert s['failed'] == 0, rep['failed']
            after = s.get('mean_residual_motion_px')
            print(f"| {name} | {took / len(ds):.2f} | {n_frames / took:.0f} "
                  f"| {s['mean_motion_px']:.2f} | "
                  f"{'%.3f' % after if after is not None else '-'} |")
        print(alignment_error(osp.join(tmp, 'a'), truth, fc))
    return 0


def alignment_error(cache: str, truth: dict, fc) -> str:
    """Worst eye position error, eye-level difference and inter-ocular
    distance error (px) of the aligned clips against the known poses."""
    import numpy as np
    from mmakm.preprocessing import read_index
    from mmakm.preprocessing.face import (FACE_CENTRE_BELOW_EYES_IOD,
                                          canonical_eye_distance)
    size = 144
    iod = canonical_eye_distance(size, 0.1)
    row = size / 2 - FACE_CENTRE_BELOW_EYES_IOD * iod
    target = np.array([[size / 2 - iod / 2, row], [size / 2 + iod / 2, row]])
    pos, level, dist = [], [], []
    for sub, clip, *_ in fc.CLIPS:
        index = read_index(cache, f'casme2/sub{sub:02d}/{clip}')
        eyes = fc.map_points(np.asarray(index['matrix']), fc.map_points(
            truth[clip]['matrices'][0], fc.PHOTO_EYES))
        pos.append(np.abs(eyes - target).max())
        level.append(abs(eyes[1, 1] - eyes[0, 1]))
        dist.append(abs(np.hypot(*(eyes[1] - eyes[0])) - iod))
    return (f'\nalignment error of (a) over {len(pos)} poses (px, 144 px '
            f'crop): eye position max {max(pos):.2f}, eye level max '
            f'{max(level):.2f}, inter-ocular distance max {max(dist):.2f} '
            f'(target {iod:.2f})')


if __name__ == '__main__':
    sys.exit(main())
