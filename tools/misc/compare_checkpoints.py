"""Compare the weights of two checkpoints (reproducibility checks).

    python tools/misc/compare_checkpoints.py A.pth B.pth

Prints ``identical`` when every tensor of the two state dicts is
bit-identical (exit 0), otherwise the largest absolute difference and the
tensor that holds it, and any key or shape present in one only (exit 1).
Used for the same-seed and resume checks of docs/robustness.md.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('a', help='checkpoint (.pth)')
    p.add_argument('b', help='checkpoint (.pth)')
    return p.parse_args(argv)


def compare_state_dicts(a: dict, b: dict) -> dict:
    """``dict(identical, max_abs, key, only_a, only_b, shapes)`` of two
    state dicts (``max_abs`` over the floating-point tensors present in
    both with equal shapes; non-float tensors count as unequal unless
    bit-identical)."""
    import torch
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    shapes = sorted(k for k in set(a) & set(b)
                    if a[k].shape != b[k].shape)
    max_abs, where, equal = 0.0, None, not (only_a or only_b or shapes)
    for k in sorted(set(a) & set(b)):
        if k in shapes or torch.equal(a[k], b[k]):
            continue
        equal = False
        if a[k].is_floating_point():
            d = float((a[k].double() - b[k].double()).abs().max())
        else:
            d = float('inf')
        if where is None or d > max_abs:
            max_abs, where = d, k
    return dict(identical=equal, max_abs=max_abs, key=where, only_a=only_a,
                only_b=only_b, shapes=shapes)


def main(argv=None):
    args = parse_args(argv)
    import mmakm  # noqa: F401  (stack fixes: checkpoint loading)
    from mmakm.engine import USER_ERRORS, read_checkpoint
    try:
        a, b = (read_checkpoint(p) for p in (args.a, args.b))
    except USER_ERRORS as e:
        raise SystemExit(f'error: {e}')
    r = compare_state_dicts(a.get('state_dict', a), b.get('state_dict', b))
    if r['identical']:
        print('identical')
        return 0
    if r['key'] is not None:
        print(f"max abs difference {r['max_abs']:.6g} ({r['key']})")
    for what in ('only_a', 'only_b', 'shapes'):
        if r[what]:
            print(f"{what.replace('_', ' ')}: {', '.join(r[what])}")
    return 1


if __name__ == '__main__':
    sys.exit(main())
