"""Recognise the micro-expression in one clip and draw its key frames.

    python tools/demo.py INPUT CONFIG CHECKPOINT [--onset N --offset N]
        [--apex N] [--out demo.png] [--json res.json] [--device cpu]
        [--no-face-crop] [--face align|box] [--face-size 144] [--stabilise]

INPUT is a video file (frame numbers = 0-based index; a phone video's
display rotation is applied) or a folder of frames (frame number = last
number in the file name, e.g. img46.jpg -> 46). Frames are decoded as they
are used, so long or large clips need memory for the aligned faces only.

The clip gets the preprocessing the model was trained on: when the
config's test data is read from a frame cache made by ``tools/preprocess.py``
(its ``preprocess`` section: face alignment, stabilisation, magnification),
that recipe; otherwise the face is aligned with the defaults (one
similarity transform for the whole clip from the first frame's landmarks,
eye line level, fixed inter-ocular distance). ``--face box`` uses OpenCV's
Haar box (median over frames, no rotation) instead; landmarks not found
fall back to the box, no face at all is an error (``--no-face-crop`` feeds
the full frames, e.g. already cropped faces). The config's test pipeline
and model run on the result, the class probabilities are printed and a
figure (frame strip with the key frames marked, beta curve, apex if given)
is saved.
"""
import argparse
import os.path as osp
import sys
import warnings

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import mmakm  # noqa: E402,F401  (stack fixes before anything else)
from mmakm.engine.user_input import CfgOptionsAction  # noqa: E402

from mmakm.apis import infer_clip, init_model, read_clip  # noqa: E402
from mmakm.apis.frames import FrameSubset  # noqa: E402
from mmakm.engine import USER_ERRORS  # noqa: E402
from mmakm.engine.fileio import atomic_json_dump  # noqa: E402
from mmakm.preprocessing import NoFaceError  # noqa: E402
from mmakm.visualization import plot_key_frames  # noqa: E402

#: clips with fewer frames leave key-frame mining nothing to choose from
MIN_MINING_FRAMES = 3
#: key frames printed (all of them are in --json)
MAX_PRINTED_KEYS = 30


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
    p.add_argument('--out', default='demo_keyframes.png',
                   help='figure path (.png, .pdf, .svg, .jpg, ...)')
    p.add_argument('--json', help='also write the result as JSON here')
    p.add_argument('--device', default='cpu')
    p.add_argument('--no-face-crop', action='store_true',
                   help='feed the full frames (e.g. already cropped faces)')
    p.add_argument('--face', choices=('align', 'box'),
                   help="landmark alignment or Haar box crop (default: the "
                   "config's preprocess.face.detector, else align)")
    p.add_argument('--face-size', type=int,
                   help="side of the face crop (default: the config's "
                   'preprocess.face.size, else 144)')
    p.add_argument('--stabilise', action='store_true',
                   help='also stabilise every frame to the first (ECC)')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    return p.parse_args(argv)


def check_output(path: str, what: str) -> None:
    """An output file path the demo can write, before any work."""
    from mmakm.engine import UserInputError, ensure_writable_dir
    if osp.isdir(path):
        raise UserInputError(f'{what} {path} is a folder; expected a file '
                             'path')
    ensure_writable_dir(osp.dirname(osp.abspath(path)), f'{what} folder')


def check_device(device: str) -> None:
    """UserInputError unless torch can put the model on ``device``."""
    import torch

    from mmakm.engine import UserInputError
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise UserInputError(f'--device {device}: {exc}') from None
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if dev.type == 'cuda' and (dev.index or 0) >= count:
        raise UserInputError(
            f'--device {device}: no such CUDA device here ({count} visible, '
            f'torch {torch.__version__}); use --device cpu')


def check_args(args) -> None:
    """Everything that can be checked before a frame is decoded.

    Raises:
        FileNotFoundError / ValueError: with the message to print.
    """
    from matplotlib.figure import Figure

    from mmakm.engine import UserInputError
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
    check_output(args.out, '--out')
    formats = Figure().canvas.get_supported_filetypes()
    ext = osp.splitext(args.out)[1].lstrip('.').lower()
    if ext not in formats:
        raise UserInputError(
            f'--out {args.out}: {"no" if not ext else "unknown"} figure '
            f'format {ext!r}; expected one of {", ".join(sorted(formats))}')
    if args.json:
        check_output(args.json, '--json')
    check_device(args.device)
    if args.fps is not None and not args.fps > 0:
        raise UserInputError(f'--fps {args.fps}: expected a frame rate > 0')
    if args.face_size is not None and args.face_size < 16:
        raise UserInputError(f'--face-size {args.face_size}: expected at '
                             'least 16 (px)')
    if (args.onset is not None and args.offset is not None
            and args.onset > args.offset):
        raise ValueError(f'--onset {args.onset} is after --offset '
                         f'{args.offset}')
    if args.apex is not None and not (
            (args.onset is None or args.onset <= args.apex)
            and (args.offset is None or args.apex <= args.offset)):
        raise ValueError(f'--apex {args.apex} is outside the clip '
                         f'(--onset {args.onset} .. --offset {args.offset})')


def check_model_input(cfg, apex) -> None:
    """A model fed the annotated apex frame alone needs ``--apex``."""
    from mmakm.apis.inference import test_pipeline_cfg
    from mmakm.engine import UserInputError
    for step in test_pipeline_cfg(cfg):
        if (step.get('type') == 'MESampleFrames'
                and step.get('mode') == 'apex' and apex is None):
            raise UserInputError(
                'this model classifies the apex frame alone (its test '
                "pipeline samples mode='apex'): give --apex N")


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


def demo_recipe(cfg, args) -> dict:
    """The preprocessing (``face`` / ``stabilise`` / ``magnify``, as in a
    config's ``preprocess`` section) the clip gets before the test
    pipeline.

    The config's own recipe when its test data is read from a frame cache
    (the model saw those frames); no face step when the test pipeline
    aligns faces itself (``MEFaceAlign``); face alignment with the
    defaults otherwise. ``--face``, ``--face-size``, ``--stabilise`` and
    ``--no-face-crop`` override.
    """
    from mmakm.apis.inference import test_pipeline_cfg
    from mmakm.loso.plan import leaf_datasets
    from mmakm.preprocessing.clip import stabilise_options
    from mmakm.preprocessing.runner import normalise_recipe
    cached = any(leaf.get('cache_dir') for leaf in
                 leaf_datasets(cfg.test_dataloader.dataset))
    recipe = normalise_recipe(cfg.get('preprocess') if cached else None)
    in_pipeline = any(t.get('type') == 'MEFaceAlign'
                      for t in test_pipeline_cfg(cfg))
    if args.no_face_crop or in_pipeline:
        return dict(recipe, face=None, stabilise=None)
    if args.face:
        recipe['face']['detector'] = dict(align='landmarks',
                                          box='box')[args.face]
    if args.face_size:
        recipe['face']['size'] = args.face_size
    if args.stabilise:
        recipe['stabilise'] = stabilise_options(True)
    return recipe


def describe(recipe: dict) -> str:
    face = recipe['face']
    if face is None:
        text = 'none (full frame)'
    else:
        text = (f"aligned ({face['size']} px, eye line level)"
                if face['detector'] == 'landmarks' else
                f"Haar box ({face['size']} px)")
    if recipe['stabilise']:
        text += ', stabilised'
    if recipe['magnify']:
        text += (f", magnified ({recipe['magnify']['type']}, alpha "
                 f"{recipe['magnify'].get('alpha')})")
    return text


def preprocess(clip, recipe: dict, input_path: str):
    """``(frames, info, recipe)``: the clip after the recipe; landmarks
    not found fall back to the Haar box (with a warning).

    Raises:
        NoFaceError: naming the input, when no face is found at all.
    """
    from mmakm.preprocessing import FaceLostError, preprocess_clip
    if recipe['face'] is None and not recipe['magnify']:
        return clip.frames, dict(method='none'), recipe
    try:
        out, info = preprocess_clip(
            clip.frames, recipe['face'], recipe['stabilise'],
            recipe['magnify'], measure_motion=False, fps=clip.fps,
            frame_numbers=clip.frame_numbers)
        return out, info, recipe
    except FaceLostError as exc:  # found, then lost: no other detector helps
        raise FaceLostError(f'{input_path}: {exc}') from None
    except (NoFaceError, ImportError) as exc:
        if recipe['face'] is None:  # magnification alone
            raise
        if recipe['face']['detector'] == 'box':
            raise NoFaceError(f'{input_path}: {exc}; expected a visible '
                              'frontal face (--no-face-crop feeds the full '
                              'frames)') from None
        warnings.warn(f'face landmarks not found ({exc}): using the OpenCV '
                      'Haar box')
    box = dict(recipe, face=dict(recipe['face'], detector='box'))
    return preprocess(clip, box, input_path)


def face_box(info: dict, recipe: dict):
    """``[x0, y0, x1, y1]`` of a Haar box crop in the input frames, or
    None (landmark alignment: see ``face_matrix``)."""
    if info.get('method') != 'box':
        return None
    (s, _, tx), (_, _, ty) = info['matrix']
    side = recipe['face']['size'] / s
    return [round(-tx / s), round(-ty / s), round(-tx / s + side),
            round(-ty / s + side)]


def prepare(args):
    """``(model, classes, clip, face info, recipe)``: the checked
    arguments, the model and the preprocessed clip."""
    check_args(args)
    # the model first: a checkpoint that does not fit fails before the
    # video is decoded
    model, classes = init_model(args.config, args.checkpoint, args.device,
                                args.cfg_options)
    check_model_input(model.cfg, args.apex)
    recipe = demo_recipe(model.cfg, args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            clip = read_clip(args.input, args.onset, args.offset, args.fps)
            check_clip(clip, args.apex)
            clip.frames, face, recipe = preprocess(clip, recipe, args.input)
        finally:
            for w in caught:
                print(f'warning: {w.message}', file=sys.stderr)
    return model, classes, clip, face, recipe


def recognise(args, model, classes, clip, face, recipe) -> None:
    """Run the model on the clip; print the result, write the figure and
    the JSON (each complete or absent)."""
    res = infer_clip(model, clip, apex=args.apex, onset=args.onset,
                     offset=args.offset)
    probs = res['probs']
    names = list(classes) if classes else [f'class {i}'
                                            for i in range(len(probs))]
    fed = res['frame_numbers_fed']
    print(f'{clip.name}: {len(clip.frames)} frames '
          f'{clip.frame_numbers[0]}..{clip.frame_numbers[-1]}, {len(fed)} '
          f'fed, face {describe(recipe)}')
    for name, p in sorted(zip(names, probs), key=lambda t: -t[1]):
        print(f'  {name:<12s} {p:.4f}')
    print(f'prediction: {names[res["pred_label"]]}')
    summary = dict(input=args.input, face=describe(recipe),
                   face_box=face_box(face, recipe),
                   face_matrix=face.get('matrix'), classes=names,
                   probs=[float(p) for p in probs],
                   pred=names[res['pred_label']],
                   frame_numbers_fed=fed.tolist())
    if res['frame_weights'] is not None:
        keys = res['key_frames'].reshape(-1).astype(int)
        # positions within the fed frames -> the input's frame numbers
        summary['key_frames'] = fed[keys].tolist()
        summary['frame_weights'] = res['frame_weights'].reshape(-1).tolist()
        shown = summary['key_frames'][:MAX_PRINTED_KEYS]
        more = len(keys) - len(shown)
        print(f'key frames ({len(keys)} of {len(fed)} fed): {shown}' +
              (f' ... {more} more (all in --json)' if more else ''))
        plot_key_frames(
            res['frame_weights'], keys, frame_numbers=fed, apex=args.apex,
            frames=FrameSubset(clip.frames, res['fed_positions']), fps=clip.fps,
            probs=probs, classes=names, title=clip.name, out=args.out)
        print(f'figure: {args.out}')
    else:
        print('this model gives no key frames / β: no figure written',
              file=sys.stderr)
    if args.json:
        atomic_json_dump(summary, args.json)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        prepared = prepare(args)
    except (FileNotFoundError, ValueError, NoFaceError, *USER_ERRORS) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    try:
        recognise(args, *prepared)
    # e.g. a video frame that cannot be decoded; a full disk
    except (OSError, *USER_ERRORS) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
