"""Key-frame figures from saved predictions (``tools/test.py --dump``).

    python tools/analysis/keyframe_plot.py PRED_PKL [--out DIR]
        [--config CONFIG [--cfg-options k=v ...]] [--max N] [--clips ID ...]

One figure per clip (β curve, key frames, annotated apex) and a histogram
of |apex − max-β key frame| (clips without apex annotation are left out and
counted). With ``--config`` (the config the predictions were made with) the
frames are read from the dataset and a frame strip is added, and classes
are named as in the dataset's class setup (else by their index);
``--cfg-options`` as given to ``tools/test.py`` (e.g. the data root).
"""
import argparse
import os.path as osp
import sys
from collections import Counter
from typing import Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
import mmakm  # noqa: E402,F401
from mmakm.engine.user_input import CfgOptionsAction  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from mmakm.evaluation import keyframe_apex_stats  # noqa: E402
from mmakm.evaluation.functional import check_predictions  # noqa: E402
from mmakm.loso.report import load_predictions  # noqa: E402
from mmakm.visualization import (apex_offset_histogram,  # noqa: E402
                                 plot_key_frames)


def clip_frames(config: str, cfg_options=None):
    """``{(subject, clip_id): [data info, ...]}`` of the config's test data
    (frame images or the preprocessed cache; a clip may hold several
    samples, as in CAS(ME)^3), and its class names."""
    from mmaction.registry import DATASETS
    from mmengine.registry import init_default_scope

    from mmakm.loso.plan import leaf_datasets, load_config
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    table, classes = {}, None
    for leaf in leaf_datasets(cfg.test_dataloader.dataset):
        leaf = dict(leaf, pipeline=[])
        leaf.pop('subjects', None)
        ds = DATASETS.build(leaf)
        classes = classes or tuple(ds.metainfo.get('classes') or ())
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            table.setdefault((info['subject'], info['clip_id']),
                             []).append(info)
    return table, classes


def sample_info(infos: list, sample: dict) -> Optional[dict]:
    """The data info of a predicted sample among its clip's: the one with
    its onset..offset, or the clip's only one when the prediction does not
    say; None if none fits."""
    fits = [i for i in infos
            if (sample.get('onset'), sample.get('offset')) in
            ((i['onset'], i['offset']), (None, None))]
    return fits[0] if len(fits) == 1 else None


def read_frames(info: dict, numbers) -> Optional[list]:
    """RGB frames ``numbers`` of a clip as the model was fed them: the
    shipped images or video, or the aligned faces of the cache; None if
    not all are there."""
    index = {int(n): i for i, n in enumerate(info['frame_numbers'])}
    if not all(int(n) in index for n in numbers):
        return None
    inds = [index[int(n)] for n in numbers]
    if 'cache_file' in info:
        from mmakm.preprocessing.cache import load_frames
        return list(load_frames(info['cache_file'],
                                np.asarray(info['cache_rows'])[inds]))
    if 'frame_paths' in info:
        return [cv2.cvtColor(cv2.imread(info['frame_paths'][i]),
                             cv2.COLOR_BGR2RGB) for i in inds]
    if 'filename' in info:
        from mmakm.datasets.video import read_video_frames
        return list(read_video_frames(
            info['filename'], np.asarray(info['video_frame_inds'])[inds]))
    return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('predictions')
    p.add_argument('--out', default='keyframe_plots')
    p.add_argument('--config', help='read frames for the strips')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                   help='settings of --config, as given to tools/test.py')
    p.add_argument('--max', type=int, default=20, help='clip figures at most')
    p.add_argument('--clips', nargs='+', help='only these clip ids')
    args = p.parse_args(argv)
    try:
        samples = load_predictions(args.predictions)
    except (OSError, EOFError, ValueError) as e:
        print(f'error: cannot read {args.predictions}: {e}', file=sys.stderr)
        return 2
    samples = [s for s in samples if s.get('frame_weights') is not None
               and s.get('key_frames') is not None]
    if args.clips:
        samples = [s for s in samples if s.get('clip_id') in args.clips]
    if not samples:
        print('error: no predictions with key frames / β (AKMNet dumps '
              'have them)', file=sys.stderr)
        return 1
    try:
        frames_of, classes = clip_frames(
            args.config, args.cfg_options) if args.config else ({}, None)
    except (OSError, SyntaxError, ValueError) as e:  # config, corpus, cache
        print(f'error: {args.config}: {e}', file=sys.stderr)
        return 2
    if classes:
        try:  # names would be shifted against a model of another setup
            check_predictions(samples, classes, args.predictions)
        except ValueError as e:
            print(f'error: {e}', file=sys.stderr)
            return 2

    def name_of(label: int) -> str:
        return classes[label] if classes else f'class {label}'
    written = []
    shown = samples[:args.max]
    per_clip = Counter((s.get('subject'), s.get('clip_id')) for s in shown)
    for s in shown:
        fed = s.get('frame_numbers_fed')
        clip = (s.get('subject'), s.get('clip_id'))
        info = sample_info(frames_of.get(clip, []), s)
        frames = read_frames(info, fed) if info and fed is not None else None
        name = f"{s.get('subject', '')}_{s.get('clip_id', len(written))}"
        if per_clip[clip] > 1:  # samples of one clip: one file each
            name += f"_{s.get('onset')}-{s.get('offset')}"
        out = osp.join(args.out, name.replace('/', '_') + '.png')
        plot_key_frames(s['frame_weights'], s['key_frames'],
                        frame_numbers=fed, apex=s.get('apex'), frames=frames,
                        fps=s.get('fps'), probs=s.get('pred_score'),
                        classes=classes,
                        title=f"{s.get('subject')} {s.get('clip_id')} "
                              f"(gt {name_of(s['gt_label'])}, pred "
                              f"{name_of(s['pred_label'])})",
                        out=out)
        written.append(out)
    kf = keyframe_apex_stats(samples)
    if kf['num_clips']:
        hist = osp.join(args.out, 'keyframe_apex.png')
        apex_offset_histogram(kf['dist_frames'], fps=kf['fps'], out=hist)
        written.append(hist)
        print(f"apex in key frames: {kf['apex_in_key']:.3f}, apex = max-β "
              f"key frame: {kf['apex_is_max_beta']:.3f}, median "
              f"|apex − max-β key frame|: {kf['dist_frames_median']:.1f} "
              f"frames ({kf['dist_ms_median']:.1f} ms) over "
              f"{kf['num_clips']} clips")
    if kf['num_excluded_no_apex']:
        print(f"{kf['num_excluded_no_apex']} clip(s) without apex annotation "
              'left out of the key-frame statistics')
    print(f'{len(written)} figure(s) in {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
