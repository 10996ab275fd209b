#!/usr/bin/env python
"""Convert an official AKMNet checkpoint to an mmakm checkpoint.

    python tools/misc/convert_official_ckpt.py epoch40.pt akm_official.pth

The input is what the authors' code saves (``torch.save(model.state_dict())``,
github Trunpm/AKMNet-Micro-Expression); the output is an mmengine checkpoint
(``state_dict`` + ``meta``) for mmakm's AKMNet configured as the official code
runs (``configs/_base_/models/akmnet_r18_official.py``: gray /255, 5×5 stem,
``threshold='>='``, ``grad_rule='official'``). Keys are renamed and the
classifier's columns reordered from (position, channel) to (channel,
position). The output is written atomically.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
import torch  # noqa: E402

import mmakm  # noqa: E402,F401  (stack fixes)
from mmakm.engine import atomic_torch_save  # noqa: E402
from mmakm.models.official import convert_official_state_dict  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('src', help='official checkpoint (a state dict)')
    p.add_argument('dst', help='mmakm checkpoint to write')
    return p.parse_args(argv)


def load_official(path: str) -> dict:
    """The official state dict in ``path`` (tensors only, no code run)."""
    from mmakm.engine.checkpoint import check_checkpoint_file
    check_checkpoint_file(path)
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # noqa: BLE001 (re-raised with the file name)
        raise ValueError(f'{path}: not a loadable checkpoint ({e})') from e
    for key in ('state_dict', 'model'):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            ckpt = ckpt[key]
    if not isinstance(ckpt, dict) or not all(
            isinstance(v, torch.Tensor) for v in ckpt.values()):
        raise ValueError(f'{path}: expected a state dict of tensors (what '
                         'the official code saves)')
    return ckpt


def main(argv=None) -> dict:
    args = parse_args(argv)
    official = load_official(args.src)
    try:
        state = convert_official_state_dict(official)
    except (KeyError, ValueError) as e:
        raise ValueError(f'{args.src}: {e}') from e
    fc = state['cls_head.fc_cls.weight']
    width = state['backbone.conv1.weight'].shape[0]
    gru_out = 2 * state['cls_head.gru.weight_hh_l0'].shape[1]
    positions = fc.shape[1] // gru_out
    meta = dict(source=osp.abspath(args.src),
                converted_from='official AKMNet '
                '(Trunpm/AKMNet-Micro-Expression)',
                num_classes=int(fc.shape[0]), base_channels=int(width),
                spatial_size=int(round(positions**0.5)))
    atomic_torch_save(dict(state_dict=state, meta=meta), args.dst)
    print(f'{args.dst}: {len(state)} tensors; model as '
          f"configs/_base_/models/akmnet_r18_official.py with "
          f"num_classes={meta['num_classes']}")
    return meta


if __name__ == '__main__':
    try:
        main()
    except (ValueError, OSError, RuntimeError) as exc:  # CheckpointError
        raise SystemExit(f'error: {exc}')
