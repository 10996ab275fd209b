"""Write the synthetic still-image expression corpus (RAF-DB basic layout).

Cartoon faces in four expressions (happiness, sadness, surprise, neutral),
for a runnable macro-expression pretraining demo::

    python tools/misc/make_synthetic_stills.py data/synthetic_stills --seed 0
    python tools/train.py configs/pretrain/frameresnet_stills4.py
"""
import argparse
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('root', help='output folder (the RAF-DB data_root)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--per-class', type=int, default=60,
                   help='training images per expression')
    p.add_argument('--test-per-class', type=int, default=20)
    p.add_argument('--size', type=int, default=64, help='image size (px)')
    p.add_argument('--overwrite', action='store_true',
                   help='replace what ROOT holds')
    return p.parse_args()


def main():
    args = parse_args()
    import mmakm  # noqa: F401  (stack fixes)
    from mmakm.datasets.macro.synthetic_stills import make_synthetic_stills
    t0 = time.time()
    try:
        root = make_synthetic_stills(args.root, seed=args.seed,
                                     per_class=args.per_class,
                                     test_per_class=args.test_per_class,
                                     size=args.size, overwrite=args.overwrite)
    except OSError as exc:  # CorpusExistsError, an unwritable root
        raise SystemExit(f'error: {exc}')
    print(f'synthetic stills at {root} ({time.time() - t0:.1f} s)')


if __name__ == '__main__':
    main()
