#!/usr/bin/env python
"""Check every sample and frame of a config's corpora before training.

    python tools/misc/check_corpus.py CONFIG [--decode] [--cfg-options k=v]

Reads the annotation of every ME dataset of the config (train, val and test
data, all subjects) and checks each sample: annotation rows, frames present,
and every frame image usable (not empty, truncated or corrupt, the size of
its clip; headers only unless ``--decode``); of a video sample, its last
frame decodes (``--decode``: every frame). Prints a report naming every
bad file and exits 1 if there is any (0: the corpus is clean). The corpus is
checked as shipped, also for a config that trains on a preprocessed frame
cache: this check comes before ``tools/preprocess.py``.
"""
import argparse
import os.path as osp
import sys
import time
from collections import Counter

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
import mmakm  # noqa: E402,F401  (stack fixes before any config is parsed)
from mmakm.engine.user_input import CfgOptionsAction  # noqa: E402

from mmakm.loso.plan import corpus_datasets  # noqa: E402


def check_dataset(leaf: dict, decode: bool = False) -> dict:
    """Build one dataset leniently, on the shipped frames, and check all
    its frames."""
    from mmaction.registry import DATASETS

    from mmakm.datasets import CorpusError
    from mmakm.datasets.integrity import check_clip_frames
    from mmakm.datasets.video import VideoReadError, read_video_frames
    ds = DATASETS.build(dict(leaf, pipeline=[], on_bad_sample='skip',
                             check_images=False, lazy_init=True,
                             cache_dir=None))
    try:
        ds.full_init()
        infos = [ds.get_data_info(i) for i in range(len(ds))]
    except CorpusError:
        if not ds.skipped:
            raise
        infos = []  # no usable sample: every bad one is listed
    bad = [s['reason'] for s in ds.skipped]
    n_frames, n_bad_clips, t0 = 0, 0, time.perf_counter()
    for info in infos:
        paths = info.get('frame_paths')
        if info.get('filename'):  # a video: its last frame, or every one
            inds = np.asarray(info['video_frame_inds'])
            n_frames += len(inds)
            try:
                read_video_frames(info['filename'],
                                  inds if decode else inds[-1:])
                problems = []
            except VideoReadError as exc:
                problems = [exc]
        elif paths:
            n_frames += len(paths)
            problems = check_clip_frames(paths, decode=decode)
        else:
            continue
        if problems:
            n_bad_clips += 1
            bad.append(f"clip {info['clip_id']} ({info['subject']}): " +
                       '; '.join(map(str, problems)))
    return dict(name=leaf.get('type'), root=leaf.get('data_root', ''),
                samples=len(infos) - n_bad_clips, bad=bad, duplicates=ds.duplicates,
                excluded=ds.excluded, frames=n_frames,
                seconds=time.perf_counter() - t0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--decode', action='store_true',
                   help='decode every frame too (finds damaged image data '
                   'inside well-formed files; much slower)')
    p.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    args = p.parse_args(argv)
    from mmengine.registry import init_default_scope

    from mmakm.engine import ensure_synthetic_corpus
    from mmakm.loso.plan import load_config
    try:
        cfg = load_config(args.config, args.cfg_options)
    except (OSError, SyntaxError, ValueError) as e:
        print(f'error: {args.config}: {e}', file=sys.stderr)
        return 2
    ensure_synthetic_corpus(cfg)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    n_bad = 0
    for leaf in corpus_datasets(cfg):
        try:
            r = check_dataset(leaf, decode=args.decode)
        except (OSError, ValueError) as e:
            print(f"{leaf.get('type')}: cannot read the corpus: {e}")
            n_bad += 1
            continue
        rate = r['frames'] / r['seconds'] if r['seconds'] > 0 else 0.0
        print(f"{r['name']} ({r['root']}): {r['samples']} usable sample(s), "
              f"{len(r['bad'])} bad; {r['frames']} frames checked in "
              f"{r['seconds']:.2f} s ({rate:.0f} frames/s"
              f"{', decoded' if args.decode else ', headers'})")
        for reason in r['bad']:
            print(f'  BAD  {reason}')
        for d in r['duplicates']:
            print(f"  DUPLICATE  {d['where']} (same as {d['same_as']}; "
                  'dropped)')
        if r['excluded']:
            reasons = Counter(e['reason'] for e in r['excluded'])
            print(f"  {len(r['excluded'])} sample(s) excluded, not errors ("
                  + '; '.join(f'{k}: {v}' for k, v in sorted(reasons.items()))
                  + ')')
        n_bad += len(r['bad'])
    print('corpus OK' if not n_bad else f'{n_bad} problem(s) found')
    return 1 if n_bad else 0


if __name__ == '__main__':
    sys.exit(main())
