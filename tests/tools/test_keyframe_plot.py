"""tools/analysis/keyframe_plot.py --config on a corpus outside data/ and
on the preprocessed cache the paper configs train on."""
import os.path as osp
import pickle
import sys

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import fabricate as fab  # noqa: E402
from tools_testlib import REPO, TOOLS  # noqa: E402

PAPER_CFG = osp.join(REPO, 'configs', 'akm_casme2.py')


def _cached_corpus(tmp_path):
    """A CASME II-layout corpus and a cache of its frames (no face or
    magnification step: the rows are the shipped frames, reversed in
    colour so that the strip can be told from a read of the JPEGs)."""
    from mmaction.registry import DATASETS
    from mmengine.registry import init_default_scope

    from mmakm.preprocessing import write_clip
    from mmakm.preprocessing.runner import decode_clip
    init_default_scope('mmaction')
    root = fab.make_casme2(str(tmp_path / 'casme2'))
    ds = DATASETS.build(dict(type='CASME2Dataset', data_root=root,
                             class_setup='paper4', pipeline=[]))
    cache, rows = str(tmp_path / 'cache'), {}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        frames, numbers = decode_clip(info)
        clip = 255 - np.stack(frames)
        write_clip(cache, info['cache_key'], clip, numbers)
        rows[(info['subject'], info['clip_id'])] = (numbers, clip)
    return root, cache, rows


def test_strip_from_the_cache_with_cfg_options(tmp_path, monkeypatch,
                                               capsys):
    """Before: no --cfg-options (the config's data/ root could not be
    changed) and a traceback for the missing cache; with a cache, no
    strip at all (only shipped frame files were read)."""
    sys.path.insert(0, osp.join(TOOLS, 'analysis'))
    import keyframe_plot
    root, cache, rows = _cached_corpus(tmp_path)
    (subject, clip_id), (numbers, clip) = next(iter(rows.items()))
    fed = numbers[::2]
    preds = tmp_path / 'preds.pkl'
    with open(preds, 'wb') as fh:
        pickle.dump([dict(
            pred_score=np.full(4, 0.25), pred_label=0, gt_label=0,
            subject=subject, clip_id=clip_id, fps=200.0, apex=-1,
            frame_numbers_fed=fed, key_frames=np.array([0, 1]),
            frame_weights=np.linspace(0.2, 0.8, len(fed)))], fh)
    strips = []
    monkeypatch.setattr(keyframe_plot, 'plot_key_frames',
                        lambda *a, **k: strips.append(k['frames']))
    argv = [str(preds), '--out', str(tmp_path / 'kf'), '--config', PAPER_CFG]
    # the paper config reads data/ and its cache there: one line, no trace
    assert keyframe_plot.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'error: {PAPER_CFG}: ') and 'Traceback' not in err
    assert keyframe_plot.main(argv + ['--cfg-options', *[
        f'{split}_dataloader.dataset.{key}={value}'
        for split in ('train', 'test')
        for key, value in (('data_root', root), ('cache_dir', cache))]]) == 0
    assert len(strips) == 1 and strips[0] is not None
    np.testing.assert_array_equal(np.stack(strips[0]), clip[::2])


def test_strip_from_video_clips(corpus_root, tmp_path, monkeypatch):
    """Clips read from videos (``data_prefix=dict(video=...)``): before, the
    figures had no strip."""
    sys.path.insert(0, osp.join(TOOLS, 'analysis'))
    import keyframe_plot
    from mmakm.datasets.video import read_video_frames
    from tools_testlib import SYNTH_CFG
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmaction.registry import DATASETS
    init_default_scope('mmaction')
    opts = {f'{s}_dataloader.dataset.{k}': v for s in ('train', 'test')
            for k, v in (('data_root', corpus_root),
                         ('data_prefix', "dict(video='CASME2_video')"))}
    cfg = Config.fromfile(SYNTH_CFG)
    ds = DATASETS.build(dict(cfg.test_dataloader.dataset, pipeline=[],
                             data_root=corpus_root,
                             data_prefix=dict(video='CASME2_video')))
    info = ds.get_data_info(0)
    fed = np.asarray(info['frame_numbers'])[::8]
    preds = tmp_path / 'preds.pkl'
    with open(preds, 'wb') as fh:
        pickle.dump([dict(
            pred_score=np.full(4, 0.25), pred_label=0, gt_label=0,
            subject=info['subject'], clip_id=info['clip_id'], fps=200.0,
            apex=-1, frame_numbers_fed=fed, key_frames=np.array([0]),
            frame_weights=np.linspace(0.2, 0.8, len(fed)))], fh)
    strips = []
    monkeypatch.setattr(keyframe_plot, 'plot_key_frames',
                        lambda *a, **k: strips.append(k['frames']))
    assert keyframe_plot.main([
        str(preds), '--out', str(tmp_path / 'kf'), '--config', SYNTH_CFG,
        '--cfg-options', *[f'{k}={v}' for k, v in opts.items()]]) == 0
    assert strips[0] is not None
    want = read_video_frames(info['filename'],
                             np.asarray(info['video_frame_inds'])[::8])
    np.testing.assert_array_equal(np.stack(strips[0]), want)


def test_samples_of_one_clip_get_their_own_strip(tmp_path, monkeypatch):
    """CAS(ME)^3 codes several movements of one recording: each sample's
    strip is read from its own frames and written to its own file (before:
    one file, the last sample's data info for both)."""
    sys.path.insert(0, osp.join(TOOLS, 'analysis'))
    import keyframe_plot
    rows = fab.CASME3_ROWS + [('spNO.1', 'a', 140, 141, 143, 'AU4', 'III',
                               'disgust')]
    root = fab.make_casme3(str(tmp_path / 'c3'), rows)
    preds = tmp_path / 'preds.pkl'
    with open(preds, 'wb') as fh:
        pickle.dump([dict(
            pred_score=np.full(4, 0.25), pred_label=0, gt_label=0,
            subject='casme3/spNO.1', clip_id='a', onset=on, offset=off,
            fps=30.0, apex=-1, frame_numbers_fed=np.array([on, off]),
            key_frames=np.array([0]), frame_weights=np.array([0.4, 0.6]))
            for on, off in ((120, 123), (140, 143))], fh)
    plots = {}
    monkeypatch.setattr(keyframe_plot, 'plot_key_frames',
                        lambda *a, **k: plots.update({k['out']: k['frames']}))
    cfg = osp.join(REPO, 'configs', 'akm_casme3.py')
    assert keyframe_plot.main([
        str(preds), '--out', str(tmp_path / 'kf'), '--config', cfg,
        '--cfg-options', *[f'{split}_dataloader.dataset.{key}={value}'
                           for split in ('train', 'test')
                           for key, value in (('data_root', root),
                                              ('cache_dir', None))]]) == 0
    names = sorted(osp.basename(p) for p in plots)
    assert names == ['casme3_spNO.1_a_120-123.png',
                     'casme3_spNO.1_a_140-143.png']
    for out, frames in plots.items():
        on, off = map(int, out[:-4].rsplit('_', 1)[1].split('-'))
        # fabricated frame n has blue level n (RGB: channel 2; JPEG: +-2)
        levels = [int(f[0, 0, 2]) for f in frames]
        assert np.abs(np.subtract(levels, [on, off])).max() <= 2, levels
