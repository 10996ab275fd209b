"""Recognise the micro-expression in one clip and draw its key frames.

    python tools/demo.py INPUT CONFIG CHECKPOINT [--onset N --offset N]
        [--apex N] [--out demo.png] [--device cpu] [--no-face-crop]
        [--face align|box] [--face-size 144] [--stabilise]

INPUT is a video file (frame numbers = 0-based index) or a folder of frames
(frame number = last number in the file name, e.g. img46.jpg -> 46).
The face is aligned as ``tools/preprocess.py`` does (``--face align``: one
similarity transform for the whole clip from the first frame's landmarks,
eye line level, fixed inter-ocular distance; falls back to the box when no
landmarks are found) or cropped with one box for the whole clip (``--face
box``: OpenCV's bundled Haar cascade, median over frames; full frame with
a warning if no face is found). The config's test pipeline and model run
on the face, the class probabilities are printed and a figure (frame strip
with the key frames marked, β curve, apex if given) is saved.
"""
import argparse
import os.path as osp
import sys
import warnings

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import mmakm  # noqa: E402,F401  (stack fixes before anything else)
from mmakm.engine.user_input import CfgOptionsAction  # noqa: E402

from mmakm.apis import infer_clip, init_model, read_clip  # noqa: E402
from mmakm.apis.face import face_crop  # noqa: E402
from mmakm.preprocessing import NoFaceError, preprocess_clip  # noqa: E402
from mmakm.visualization import plot_key_frames  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('input', help='video file or folder of frames')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--onset', type=int, help='first frame (inclusive)')
    p.add_argument('--offset', type=int, help='last frame (inclusive)')
    p.add_argument('--apex', type=int, help='annotated apex frame, if known')
    p.add_argument('--fps', type=float,
                   help='frame rate (videos: read from the file)')
    p.add_argument('--out', default='demo_keyframes.png', help='figure path')
    p.add_argument('--json', help='also write the result as JSON here')
    p.add_argument('--device', default='cpu')
    p.add_argument('--no-face-crop', action='store_true',
                   help='feed the full frames (e.g. already cropped faces)')
    p.add_argument('--face', choices=('align', 'box'), default='align',
                   help='landmark alignment (default) or Haar box crop')
    p.add_argument('--face-size', type=int, default=144,
                   help='side of the aligned face (--face align)')
    p.add_argument('--stabilise', action='store_true',
                   help='also stabilise every frame to the first (ECC)')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    return p.parse_args(argv)


#: clips with fewer frames leave key-frame mining nothing to choose from
MIN_MINING_FRAMES = 3


def check_args(args) -> None:
    """Everything that can be checked before a frame is decoded.

    Raises:
        FileNotFoundError / ValueError: with the message to print.
    """
    if not osp.exists(args.input):
        raise FileNotFoundError(f'{args.input}: no such file or folder')
    for what, path in (('config', args.config),
                       ('checkpoint', args.checkpoint)):
        if '://' not in path and not osp.exists(path):
            raise FileNotFoundError(f'{what} not found: {path}')
    for what, path in (('config', args.config),
                       ('checkpoint', args.checkpoint)):
        if '://' not in path and not osp.isfile(path):
            raise ValueError(f'{what} {path} is not a file')
    from mmakm.engine import ensure_writable_dir
    for what, path in (('--out folder', args.out),
                       ('--json folder', args.json)):
        if path:
            ensure_writable_dir(osp.dirname(osp.abspath(path)), what)
    if (args.onset is not None and args.offset is not None
            and args.onset > args.offset):
        raise ValueError(f'--onset {args.onset} is after --offset '
                         f'{args.offset}')
    if args.apex is not None and not (
            (args.onset is None or args.onset <= args.apex)
            and (args.offset is None or args.apex <= args.offset)):
        raise ValueError(f'--apex {args.apex} is outside the clip '
                         f'(--onset {args.onset} .. --offset {args.offset})')


def check_clip(clip, apex) -> None:
    """The apex must be a frame of the clip; warn on clips too short for
    key-frame mining."""
    numbers = clip.frame_numbers
    if apex is not None and int(apex) not in set(numbers.tolist()):
        raise ValueError(f'--apex {apex} is not a frame of the clip (frames '
                         f'{numbers[0]}..{numbers[-1]}, {len(numbers)} '
                         'frames)')
    if len(numbers) < MIN_MINING_FRAMES:
        print(f'warning: the clip has only {len(numbers)} frame(s): '
              'key-frame mining needs a whole onset..offset clip (at least '
              f'{MIN_MINING_FRAMES} frames) to choose key frames; the '
              'prediction is unreliable', file=sys.stderr)


def face_frames(frames, args):
    """(frames, dict(how, box or matrix)) after the face step."""
    if args.no_face_crop:
        return list(frames), dict(how='none (full frame)')
    if args.face == 'align':
        try:
            out, info = preprocess_clip(
                np.stack(frames), dict(size=args.face_size),
                stabilise={} if args.stabilise else None,
                measure_motion=False)
            return list(out), dict(
                how=f'aligned ({args.face_size} px, eye line level)',
                matrix=info['matrix'])
        except (NoFaceError, ImportError) as exc:
            warnings.warn(f'face alignment failed ({exc}): using the OpenCV '
                          'Haar box')
    frames, box = face_crop(frames)
    return frames, dict(how=f'box {box}' if box else 'none (full frame)',
                        box=box)


def main(argv=None) -> int:
    from mmakm.engine.checkpoint import CheckpointError
    args = parse_args(argv)
    try:
        check_args(args)
        # the model first: a checkpoint that does not fit fails before
        # the video is decoded
        model, classes = init_model(args.config, args.checkpoint,
                                    args.device, args.cfg_options)
        clip = read_clip(args.input, args.onset, args.offset, args.fps)
        check_clip(clip, args.apex)
    except (FileNotFoundError, ValueError, CheckpointError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        frames, face = face_frames(clip.frames, args)
    for w in caught:
        print(f'warning: {w.message}', file=sys.stderr)
    clip.frames = frames
    box = face.get('box')
    res = infer_clip(model, clip, apex=args.apex, onset=args.onset,
                     offset=args.offset)
    probs = res['probs']
    names = list(classes) if classes else [f'class {i}' for i in
                                            range(len(probs))]
    print(f'{clip.name}: {len(clip.frames)} frames '
          f'{clip.frame_numbers[0]}..{clip.frame_numbers[-1]}, '
          f'{len(res["frame_numbers_fed"])} fed, face '
          f'{face["how"]}')
    for name, p in sorted(zip(names, probs), key=lambda t: -t[1]):
        print(f'  {name:<12s} {p:.4f}')
    print(f'prediction: {names[res["pred_label"]]}')
    summary = dict(input=args.input, face_box=list(box) if box else None,
                   face_matrix=face.get('matrix'),
                   classes=names, probs=[float(p) for p in probs],
                   pred=names[res['pred_label']],
                   frame_numbers_fed=res['frame_numbers_fed'].tolist())
    if res['frame_weights'] is not None:
        keys = res['key_frames'].reshape(-1).astype(int)
        fed = res['frame_numbers_fed']
        summary['key_frames'] = fed[keys].tolist()
        summary['frame_weights'] = res['frame_weights'].reshape(-1).tolist()
        print(f'key frames: {summary["key_frames"]}')
        plot_key_frames(
            res['frame_weights'], keys, frame_numbers=fed, apex=args.apex,
            frames=[clip.frames[i] for i in res['fed_positions']],
            fps=clip.fps, probs=probs, classes=names,
            title=clip.name, out=args.out)
        print(f'figure: {args.out}')
    else:
        print('this model gives no key frames / β: no figure written',
              file=sys.stderr)
    if args.json:
        from mmakm.engine.fileio import atomic_json_dump
        atomic_json_dump(summary, args.json)
    return 0


if __name__ == '__main__':
    sys.exit(main())
