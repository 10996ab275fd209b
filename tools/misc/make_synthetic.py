"""Write the built-in synthetic corpus (CASME II layout).

Example::

    python tools/misc/make_synthetic.py data/synthetic --seed 0
"""
import argparse
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('root', help='output folder (the CASME II data_root)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--subjects', type=int, default=8)
    p.add_argument('--clips-per-subject', type=int, default=8)
    p.add_argument('--size', type=int, default=96, help='frame size (px)')
    p.add_argument('--min-len', type=int, default=20)
    p.add_argument('--max-len', type=int, default=140)
    # defaults: the stated levels of mmakm/datasets/synthetic.py
    p.add_argument('--movement-px', type=float, default=1.5,
                   help='apex displacement of the moving feature (px)')
    p.add_argument('--jitter', type=float, default=1.0,
                   help='head motion std per axis (px)')
    p.add_argument('--blink-prob', type=float, default=0.5,
                   help='probability of a blink in a clip')
    p.add_argument('--flicker', type=float, default=1.0,
                   help='illumination gain std (percent)')
    p.add_argument('--noise', type=float, default=3.0,
                   help='sensor noise std (grey levels)')
    p.add_argument('--no-video', action='store_true',
                   help='skip the mp4 copy')
    p.add_argument('--overwrite', action='store_true')
    return p.parse_args()


def main():
    args = parse_args()
    import mmakm  # noqa: F401  (stack fixes)
    from mmakm.datasets.synthetic import corpus_digest, make_synthetic_casme2
    t0 = time.time()
    try:
        root = make_synthetic_casme2(
            args.root, seed=args.seed, n_subjects=args.subjects,
            clips_per_subject=args.clips_per_subject, size=args.size,
            min_len=args.min_len, max_len=args.max_len,
            video=not args.no_video, movement_px=args.movement_px,
            jitter=args.jitter, blink_prob=args.blink_prob,
            flicker=args.flicker, noise=args.noise,
            overwrite=args.overwrite)
    except (OSError, ValueError) as exc:  # CorpusExistsError, bad sizes
        raise SystemExit(f'error: {exc}')
    print(f'synthetic corpus at {root} ({time.time() - t0:.1f} s), '
          f'sha256 {corpus_digest(root)[:16]}')


if __name__ == '__main__':
    main()
