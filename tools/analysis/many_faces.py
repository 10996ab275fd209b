"""The face checks of preprocessing on the faces of 100 people.

    python tools/analysis/many_faces.py [--faces 100] [--seed 0] [--out F.json]

Clips of the 100 real faces of scikit-image's LFW subset (25 px, upscaled
to 200 px in 400 px frames; ``tests/preprocessing/face_corpus.py``,
``lfw_clip``) with known head motion and known events, through the code
:func:`mmakm.preprocessing.preprocess_clip` runs (one alignment from the
onset, the rigid ECC fit of every aligned frame onto it, the face-lost
checks). Prints, over the faces the onset aligns:

- good clips (head drift and roll, blinks, a micro-expression, light
  changes, sensor noise; a face near the frame's edge), macro-expressions
  and an exaggerated blink: the lowest ECC correlation and how many clips
  a check refuses;
- faces gone mid-clip (another person at the same place, the lower face
  covered, the head moved out of the frame, from the middle or from near
  its edge): how many each check refuses, how many pass both;
- the lower-face correlation (the fit's correlation over the mouth region
  alone) of covered mouths against smiles and open mouths;
- the stabilisation error against the known head motion (crop px);
- the Haar fallback on small faces (40 / 56 / 70 px in 640x480).

Seeded; about a minute on one core. ``--out`` writes the figures as JSON
(atomically).
"""
import argparse
import os.path as osp
import sys
import time

import cv2
import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, osp.join(ROOT, 'tests', 'preprocessing'))
import face_corpus as fc  # noqa: E402

import mmakm  # noqa: E402,F401
from mmakm.engine.fileio import atomic_json_dump  # noqa: E402
from mmakm.preprocessing import (FaceLandmarker, NoFaceError,  # noqa: E402
                                 clip_alignment, compose_with_alignment,
                                 fit_rigid_warps, preprocess_clip, warp_clip)
from mmakm.preprocessing.clip import (MAX_FACE_OUTSIDE,  # noqa: E402
                                      MIN_FACE_CORRELATION,
                                      face_outside_fraction, face_region)
from mmakm.preprocessing.face import (FACE_CENTRE_BELOW_EYES_IOD,  # noqa: E402
                                      canonical_eye_distance, map_points)

SIZE = 144
IOD = canonical_eye_distance(SIZE, 0.1)
N_FRAMES, FIRST = 3, 1  # events in frames 1..2, the onset is the reference
GOOD_DRIFT = (0.5, 1.5)  # deg, px per frame: small head drift and roll
#: clips named 'near the edge' have the head near the right edge of the
#: frame in every frame (frame px; the central face region 14 px inside
#: it in the onset, 15 % of the face cut off)
NEAR_EDGE = 130.0

#: clip name -> events (kind, amount) in frames FIRST.. (person i's clip;
#: 'swap' takes the next person); good ones also drift and flicker
GOOD = {
    'drift only': [],
    'blink 0.12 IOD': [('blink', 0.12)],
    'micro-expression 0.03 IOD': [('expression', 0.03)],
    'near the edge, drift only': [],
}
MACRO = {
    'smile 0.12 IOD': [('smile', 0.12)],
    'open mouth 0.2 IOD': [('open_mouth', 0.2)],
    'wide-open mouth 0.3 IOD': [('open_mouth', 0.3)],
    'exaggerated blink 0.3 IOD': [('blink', 0.3)],
}
GONE = {
    'another person': [('swap', None)],
    'lower face covered (grey box)': [('cover', 128.0)],
    'lower face covered (dark box)': [('cover', 40.0)],
    'head moved 170 px (frame)': [('leave', 170.0)],
    'near the edge, head moved 30 px out': [('leave', 30.0)],
    'near the edge, head moved 60 px out': [('leave', 60.0)],
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--faces', type=int, default=100,
                        help='the first N of the 100 LFW faces')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='write the figures as JSON here')
    args = parser.parse_args()
    if not 1 <= args.faces <= 100:
        parser.error(f'--faces {args.faces}: expected 1..100 (the LFW '
                     'subset holds 100 faces)')
    if args.out:  # before the minutes of work, not after
        from mmakm.engine import UserInputError, ensure_writable_dir
        try:
            ensure_writable_dir(osp.dirname(osp.abspath(args.out)),
                                '--out folder')
        except UserInputError as exc:
            parser.exit(2, f'error: {exc}\n')
    return args


def clip_events(i: int, events, n_faces: int, rng) -> list:
    """(kind, first, stop, amount) events of :func:`fc.lfw_clip`; every
    clip also gets sensor noise (sigma 3 grey levels) and a light change
    0.7-1.3 per frame."""
    out = [(k, FIRST, N_FRAMES, (i + 1) % n_faces if k == 'swap' else a)
           for k, a in events] + [('noise', 0, N_FRAMES, 3.0)]
    out += [('brightness', t, t + 1, g)
            for t, g in enumerate(rng.uniform(0.7, 1.3, N_FRAMES)) if t]
    return out


def lower_face_correlation(aligned: np.ndarray,
                           warps: np.ndarray) -> np.ndarray:
    """(T,) correlation of the mouth region (below the nose) of every
    aligned frame (T, S, S, C), moved onto the reference by its fit,
    with the reference's."""
    eye_row = SIZE / 2 - FACE_CENTRE_BELOW_EYES_IOD * IOD
    y0, y1 = int(eye_row + 0.7 * IOD), int(eye_row + 1.5 * IOD)
    x0, x1 = int(SIZE / 2 - 0.7 * IOD), int(SIZE / 2 + 0.7 * IOD)
    grey = aligned[..., 0].astype(np.float32)
    moved = np.stack([cv2.warpAffine(g, w, (SIZE, SIZE),
                                     flags=cv2.INTER_LINEAR
                                     | cv2.WARP_INVERSE_MAP)
                      for g, w in zip(grey, warps)])
    reg = moved[:, y0:y1, x0:x1].reshape(len(moved), -1)
    reg = reg - reg.mean(1, keepdims=True)
    norm = np.linalg.norm(reg, axis=1) * np.linalg.norm(reg[0])
    return (reg @ reg[0]) / np.maximum(norm, 1e-9)


def run_clip(i, events, matrix, n_faces, rng, drift=GOOD_DRIFT, at=0.0):
    """Figures of one clip: min correlation, refused by each check,
    lower-face correlation (over the event frames)."""
    frames, mats = fc.lfw_clip(i, N_FRAMES, drift=drift,
                               events=clip_events(i, events, n_faces, rng),
                               at=(at, 0.0), seed=int(rng.integers(1 << 31)))
    aligned = warp_clip(frames, matrix, SIZE)
    fit = fit_rigid_warps(aligned, 0)
    corr = fit.correlation[FIRST:]
    outside = face_outside_fraction(matrix, fit.warps, frames.shape[1:3],
                                    SIZE, IOD)[FIRST:]
    lower = lower_face_correlation(aligned, fit.warps)[FIRST:]
    truly_out = true_outside_fraction(matrix, mats, frames.shape[1:3])
    finite = corr[np.isfinite(corr)]
    return dict(min_corr=float(finite.min()) if len(finite) else np.nan,
                refused_corr=bool((~(corr >= MIN_FACE_CORRELATION)).any()),
                max_outside=float(outside.max()),
                true_outside=float(truly_out[FIRST:].max()),
                refused_outside=bool((outside > MAX_FACE_OUTSIDE).any()),
                min_lower=float(np.nanmin(lower)))


def true_outside_fraction(matrix, mats, frame_shape) -> np.ndarray:
    """(T,) fraction of the crop's central face region (the onset's)
    outside frame t, from the known head motion ``mats`` (T, 2, 3)."""
    a_inv = np.linalg.inv(np.vstack([matrix, [0, 0, 1]]))[:2]
    onset = map_points(a_inv, face_region(SIZE, IOD))  # frame 0 px
    face = map_points(np.linalg.inv(np.vstack([mats[0], [0, 0, 1]]))[:2],
                      onset)
    h, w = frame_shape
    where = np.stack([map_points(m, face) for m in mats])  # (T, P, 2)
    inside = ((where >= 0) & (where <= [w - 1, h - 1])).all(-1)
    return 1 - inside.mean(1)


def stabilisation_error(i, matrix, rng, n_frames=4, drift=(1.0, 3.0)):
    """(n_frames - 1,) mean error (crop px) over the central face region
    of the stabilised crop against the known head motion."""
    frames, mats = fc.lfw_clip(i, n_frames, drift=drift,
                               seed=int(rng.integers(1 << 31)))
    fit = fit_rigid_warps(warp_clip(frames, matrix, SIZE), 0)
    maps = compose_with_alignment(matrix, fit.warps)  # crop -> frame t
    pts = face_region(SIZE, IOD)
    inv0 = np.linalg.inv(np.vstack([mats[0], [0, 0, 1]]))[:2]
    truth = [map_points(mats[t], map_points(inv0, map_points(maps[0], pts)))
             for t in range(n_frames)]  # where the onset's face points are
    scale = float(np.hypot(*np.asarray(matrix)[0, :2]))  # crop px / frame px
    return np.array([np.linalg.norm(map_points(maps[t], pts) - truth[t],
                                    axis=1).mean() * scale
                     for t in range(1, n_frames)])


def summary(rows, key, fn):
    vals = np.array([r[key] for r in rows], dtype=np.float64)
    return float(fn(vals)) if len(vals) else float('nan')


def align_faces(n: int, landmarker) -> tuple:
    """``(matrices, edge, eyes200)``: face index -> alignment (2, 3) of
    its onset in the middle of the frame and near its edge, and the
    mesh's eyes (2, 2) in its 200 px face (faces aligned only)."""
    matrices, edge, eyes200 = {}, {}, {}
    for i in range(n):
        onset, place = fc.lfw_frame(i)
        try:
            matrices[i], eyes = clip_alignment(onset[None], landmarker, SIZE)
        except NoFaceError:
            continue
        eyes200[i] = map_points(np.linalg.inv(np.vstack([place, [0, 0, 1]]))
                                [:2], eyes)
        try:  # the face near the edge, part of it cut off: aligned anew
            edge[i], _ = clip_alignment(fc.lfw_frame(i, dx=NEAR_EDGE)[0][None],
                                        landmarker, SIZE)
        except NoFaceError:
            pass
    return matrices, edge, eyes200


def clip_table(matrices: dict, edge: dict, n: int, rng) -> dict:
    """Clip name -> figures over the faces (printed as a table)."""
    print(f'\n| clip | faces | min correlation (max) | refused: correlation '
          f'< {MIN_FACE_CORRELATION} | refused: > {MAX_FACE_OUTSIDE:.0%} of '
          'the face outside the frame | face truly out of the frame | '
          'passed by the correlation | passed by both | min lower-face '
          'correlation (max) |')
    print('|---|---|---|---|---|---|---|---|---|')
    table = {}
    for name, events in {**GOOD, **MACRO, **GONE}.items():
        at, mats = ((NEAR_EDGE, edge) if name.startswith('near the edge')
                    else (0.0, matrices))
        rows = [run_clip(i, events, m, n, rng, at=at)
                for i, m in mats.items()]
        refused = [r['refused_corr'] or r['refused_outside'] for r in rows]
        t = table[name] = dict(
            faces=len(rows), min_corr=summary(rows, 'min_corr', np.nanmin),
            max_corr=summary(rows, 'min_corr', np.nanmax),
            refused_corr=sum(r['refused_corr'] for r in rows),
            refused_outside=sum(r['refused_outside'] for r in rows),
            truly_out=sum(r['true_outside'] > MAX_FACE_OUTSIDE
                          for r in rows),
            passed_corr=len(rows) - sum(r['refused_corr'] for r in rows),
            missed=len(rows) - sum(refused),
            min_lower=summary(rows, 'min_lower', np.nanmin),
            max_lower=summary(rows, 'min_lower', np.nanmax))
        print(f"| {name} | {t['faces']} | {t['min_corr']:.3f} "
              f"({t['max_corr']:.3f}) | {t['refused_corr']} | "
              f"{t['refused_outside']} | {t['truly_out']} | "
              f"{t['passed_corr']} | {t['missed']} | "
              f"{t['min_lower']:.3f} ({t['max_lower']:.3f}) |")
    return table


def stabilisation_summary(matrices: dict, rng) -> dict:
    errors = np.concatenate([stabilisation_error(i, m, rng)
                             for i, m in matrices.items()])
    stab = dict(frames=len(errors), median=float(np.median(errors)),
                p95=float(np.percentile(errors, 95)),
                max=float(errors.max()))
    print(f"\nstabilisation error over {stab['frames']} frames (head "
          'drift +-1 deg +-3 px per frame, crop px, central face region): '
          f"median {stab['median']:.3f}, p95 {stab['p95']:.3f}, max "
          f"{stab['max']:.3f}")
    return stab


def haar_summary(eyes200: dict, n: int, landmarker) -> dict:
    """Small faces (every 4th) on a wall in 640x480, through the Haar
    fallback: side -> how many aligned, worst eye error (IOD)."""
    haar = {}
    subset = [i for i in range(0, n, 4) if i in eyes200]
    for side in (40, 56, 70):
        found, worst = 0, 0.0
        for i in subset:
            frame, face_to_frame = fc.lfw_on_wall(i, side)
            eyes = map_points(face_to_frame, eyes200[i])
            try:
                _, info = preprocess_clip(frame[None], dict(size=SIZE),
                                          landmarker=landmarker)
            except NoFaceError:
                continue
            found += 1
            got = np.asarray(info['eyes'])
            worst = max(worst, float(np.abs(got - eyes).max() / np.hypot(
                *(eyes[1] - eyes[0]))))
        haar[side] = dict(faces=len(subset), found=found,
                          max_eye_error_iod=worst)
        print(f'small faces {side} px in 640x480 (Haar fallback): {found} '
              f'of {len(subset)} aligned, eyes within {worst:.2f} IOD of '
              'where the mesh puts them on the same face at 200 px')
    return haar


def main():
    args = parse_args()
    start = time.time()
    rng = np.random.default_rng(args.seed)
    landmarker = FaceLandmarker()
    n = min(args.faces, 100)
    matrices, edge, eyes200 = align_faces(n, landmarker)
    print(f'{len(matrices)} of {n} LFW faces aligned in the onset '
          f'({len(edge)} near the edge of the frame; {SIZE} px crop); '
          f'clips of {N_FRAMES} frames, events in frames '
          f'{FIRST}-{N_FRAMES - 1}, head drift +-{GOOD_DRIFT[0]} deg '
          f'+-{GOOD_DRIFT[1]} px per frame, light 0.7-1.3 per frame, '
          'noise sigma 3')
    table = clip_table(matrices, edge, n, rng)
    stab = stabilisation_summary(matrices, rng)
    haar = haar_summary(eyes200, n, landmarker)
    landmarker.close()
    print(f'\n{time.time() - start:.0f} s')
    if args.out:
        atomic_json_dump(dict(seed=args.seed, faces=n,
                              aligned=len(matrices), clips=table,
                              stabilisation=stab, haar=haar), args.out)


if __name__ == '__main__':
    main()
