"""The README walkthrough end to end on a CASME II-layout corpus made from
a real face photograph: ``tools/preprocess.py`` (align + cache) ->
``tools/loso.py`` with the paper recipe on the cache.

The frames are 640x480 JPEGs with the face (~200 px) rotated -10..12 deg,
scaled and moved per clip, plus a small mouth movement; the aligned cache
is checked against the known transforms.
"""
import json
import os.path as osp
import sys

import numpy as np
import pytest

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, osp.join(osp.dirname(HERE), 'loso'))
import face_corpus as fc  # noqa: E402
import loso_testlib as lib  # noqa: E402

PREPROCESS = osp.join(lib.TOOLS, 'preprocess.py')


def preprocess_in_process(argv, capsys):
    """(exit status, stdout, stderr) of tools/preprocess.py run in this
    process (the first run goes through the command line)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('preprocess_tool',
                                                  PREPROCESS)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    capsys.readouterr()
    code = tool.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err
PAPER_CFG = osp.join(lib.REPO, 'configs', 'akm_casme2.py')
SIZE = 144  # the paper recipe's output side


def write_config(path, corpus, cache, magnify='paper'):
    """The paper recipe (configs/akm_casme2.py: align + phase magnification
    alpha = 15 unless ``magnify`` says otherwise) on the fabricated corpus
    and its cache, with a narrow model and one epoch."""
    recipe = ('' if magnify == 'paper' else
              f'preprocess = dict(magnify={magnify!r})')
    text = f'''_base_ = [{PAPER_CFG!r}]
data_root = {corpus!r}
cache_dir = {cache!r}
{recipe}
train_dataloader = dict(batch_size=2, num_workers=0, dataset=dict(
    data_root=data_root, cache_dir=cache_dir))
test_dataloader = dict(num_workers=0, dataset=dict(
    data_root=data_root, cache_dir=cache_dir))
model = dict(
    backbone=dict(base_channels=8),
    neck=dict(in_channels=64),
    cls_head=dict(in_channels=64, hidden_channels=8, num_layers=1))
train_cfg = dict(max_epochs=1)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=1, eta_min=1e-8,
                        by_epoch=True, begin=0, end=1,
                        convert_to_iter_based=True)]
default_hooks = dict(logger=dict(interval=1))
'''
    with open(path, 'w') as f:
        f.write(text)
    return path


@pytest.fixture(scope='module')
def walkthrough(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('walkthrough')
    corpus, cache = str(tmp / 'casme2'), str(tmp / 'cache')
    truth = fc.make_face_casme2(corpus)
    config = write_config(str(tmp / 'akm_casme2_face.py'), corpus, cache)
    proc = lib.run([sys.executable, PREPROCESS, config])
    return dict(corpus=corpus, cache=cache, truth=truth, config=config,
                stdout=proc.stdout, tmp=tmp)


def test_preprocess_writes_aligned_cache(walkthrough):
    cache, truth = walkthrough['cache'], walkthrough['truth']
    with open(osp.join(cache, 'casme2', 'preprocess_report.json')) as f:
        report = json.load(f)
    assert report['summary']['done'] == len(fc.CLIPS)
    assert report['summary']['failed'] == 0
    assert 'casme2: 4 preprocessed, 0 reused, 0 failed' in \
        walkthrough['stdout']
    iod = SIZE / (1.2 * 2.45)  # margin 0.1 (configs/_base_/preprocess_paper.py)
    for sub, clip, on, _, off, *_ in fc.CLIPS:
        base = osp.join(cache, 'casme2', f'sub{sub:02d}', clip)
        arr = np.load(base + '.npy', mmap_mode='r')
        assert arr.shape == (off - on + 1, SIZE, SIZE, 3)
        assert arr.dtype == np.uint8
        with open(base + '.json') as f:
            index = json.load(f)
        assert index['frame_numbers'] == list(range(on, off + 1))
        # the known pose: hand-annotated pupils -> frame -> aligned crop
        eyes = fc.map_points(np.asarray(index['matrix']), fc.map_points(
            truth[clip]['matrices'][0], fc.PHOTO_EYES))
        assert abs(eyes[1, 1] - eyes[0, 1]) < 0.8, clip  # eyes level
        assert abs(np.hypot(*(eyes[1] - eyes[0])) - iod) < 0.8, clip
        assert abs(eyes[:, 0].mean() - SIZE / 2) < 0.8, clip  # centred
        assert abs(eyes[:, 1].mean() - (SIZE / 2 - 0.52 * iod)) < 0.8, clip
        # no added inter-frame motion: the rigid motion of the aligned
        # JPEG frames (still head, 1.5 px mouth movement) stays < 0.3 px
        assert index['motion_px']['max'] < 0.3, (clip, index['motion_px'])
        assert index['magnify']['type'] == 'phase'
        assert index['magnify']['alpha'] == 15


def test_cache_holds_magnified_motion(walkthrough):
    """The mouth movement (onset -> apex) in the cache is the aligned
    movement magnified: far larger than without magnification."""
    import cv2
    from mmakm.preprocessing import preprocess_clip
    sub, clip, on, apex, off = fc.CLIPS[0][:5]
    folder = osp.join(walkthrough['corpus'], 'CASME2_RAW', f'sub{sub:02d}',
                      clip)
    frames = np.stack([cv2.imread(osp.join(folder, f'img{n}.jpg'))[..., ::-1]
                       for n in range(on, off + 1)])
    plain, _ = preprocess_clip(frames, dict(size=SIZE), measure_motion=False)
    cached = np.load(osp.join(walkthrough['cache'], 'casme2',
                              f'sub{sub:02d}', clip + '.npy'))
    k = apex - on

    def change(clip_arr):
        return np.abs(clip_arr[k].astype(np.float32) - clip_arr[0]).mean()
    assert change(cached) > 4 * change(plain), (change(cached),
                                                change(plain))


def test_rerun_resumes_and_recipe_is_guarded(walkthrough, capsys):
    code, out, _ = preprocess_in_process([walkthrough['config']], capsys)
    assert code == 0
    assert 'casme2: 0 preprocessed, 4 reused, 0 failed' in out
    code, _, err = preprocess_in_process(
        [walkthrough['config'], '--cfg-options', 'preprocess.face.size=96'],
        capsys)
    assert code == 2
    assert 'another recipe' in err and '--overwrite' in err


def test_cache_feeds_the_paper_pipeline(walkthrough):
    import mmakm  # noqa: F401
    from mmaction.registry import DATASETS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(walkthrough['config'])
    init_default_scope('mmaction')
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(ds) == len(fc.CLIPS)
    assert 'cache_file' in ds.get_data_info(0)
    sample = ds[0]
    t = ds.get_data_info(0)['total_frames']
    assert tuple(sample['inputs'].shape) == (t, 3, 128, 128)
    fed = sample['data_samples'].metainfo['frame_numbers_fed']
    assert list(fed) == list(ds.get_data_info(0)['frame_numbers'])


def test_loso_on_the_cache(walkthrough):
    """One LOSO fold (train on sub02's cached clips, test on sub01's)."""
    work = str(walkthrough['tmp'] / 'loso')
    proc = lib.run([sys.executable, osp.join(lib.TOOLS, 'loso.py'),
                    walkthrough['config'], '--work-dir', work, '--folds',
                    'sub01', '--seed', '0', '--quiet'], timeout=400)
    assert proc.returncode == 0
    with open(osp.join(work, 'loso_summary.json')) as f:
        summary = json.load(f)
    assert 'casme2' in json.dumps(summary)
    assert osp.isfile(osp.join(work, 'fold_casme2_sub01', 'predictions.pkl'))


def test_faceless_clip_reported_and_run_goes_on(tmp_path, capsys):
    corpus, cache = str(tmp_path / 'casme2'), str(tmp_path / 'cache')
    fc.make_face_casme2(corpus, clips=fc.CLIPS[2:], faceless=('EP04_02',))
    config = write_config(str(tmp_path / 'cfg.py'), corpus, cache,
                          magnify=None)
    code, out, err = preprocess_in_process([config], capsys)
    assert code == 1
    assert 'FAILED casme2/sub02/EP04_02' in out
    assert '1 clips failed' in err
    with open(osp.join(cache, 'casme2', 'preprocess_report.json')) as f:
        report = json.load(f)
    assert [c['clip_id'] for c in report['done']] == ['EP03_01']
    assert [c['clip_id'] for c in report['failed']] == ['EP04_02']
    assert 'no face' in report['failed'][0]['reason']
    code, out, _ = preprocess_in_process([config, '--skip-failed'], capsys)
    assert code == 0 and '1 reused, 1 failed' in out
