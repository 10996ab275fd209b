"""Write the backbone weights of a recognizer checkpoint as their own file.

The pretraining configs already export ``<work_dir>/backbone.pth`` at the
end of training (``BackboneExportHook``); this tool does the same for any
saved checkpoint, e.g. an intermediate epoch::

    python tools/misc/extract_backbone.py work_dirs/frameresnet_affectnet4/epoch_10.pth backbone_e10.pth
"""
import argparse


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('checkpoint', help='mmengine checkpoint (.pth)')
    p.add_argument('out', help='output file (torchvision-style state dict)')
    return p.parse_args()


def main():
    args = parse_args()
    import mmakm  # noqa: F401  (stack fixes: checkpoint loading)
    from mmakm.engine import USER_ERRORS, read_checkpoint, save_backbone
    try:
        ckpt = read_checkpoint(args.checkpoint)
        state = ckpt.get('state_dict', ckpt)
        meta = dict(source=args.checkpoint,
                    epoch=(ckpt.get('meta') or {}).get('epoch'))
        save_backbone(state, args.out, meta=meta)
    except USER_ERRORS as exc:
        raise SystemExit(f'error: {args.checkpoint}: {exc}'
                         if str(args.checkpoint) not in str(exc) else
                         f'error: {exc}')
    print(f'backbone of {args.checkpoint} written to {args.out}')


if __name__ == '__main__':
    main()
