"""docs/mmaction2.md as a user follows it: every config it shows is saved
where it says, trained through ``tools/train.py``, and the TSN config
inheriting MMAction2's own is tested, run as one LOSO fold and read with
MMAction2's analysis tools; the MMAction2 steps that do not fit ME clips
behave as the page says.

The corpus is CASME II as shipped (``tests/fabricate.py``: 10 clips of 3-5
frames, 3 subjects, 32 px frames); the configs' own sizes are kept.
"""
import os
import os.path as osp
import re
import sys

import numpy as np
import pytest

import mmakm  # noqa: F401  (before Config.fromfile)
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmaction.registry import DATASETS
from mmakm.datasets import ME_META_KEYS, MissingFileError, PipelineError
from mmakm.loso.report import load_predictions

from tools_testlib import REPO, load_tool

sys.path.insert(0, osp.join(REPO, 'tests'))
import fabricate  # noqa: E402

DOC = osp.join(REPO, 'docs', 'mmaction2.md')
N_CLIPS = fabricate.EXPECTED['casme2']['paper4']
FAST = ['train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False']


def doc_configs():
    """{path: text} of the page's python blocks (first line: ``# path``)."""
    text = open(DOC, encoding='utf-8').read()
    blocks = re.findall(r'^```python\n(.*?)^```', text, re.S | re.M)
    out = {}
    for block in blocks:
        first = block.splitlines()[0]
        assert first.startswith('# my_configs/'), first
        out[first[2:].strip()] = block
    return out


def doc_commands():
    text = open(DOC, encoding='utf-8').read()
    blocks = re.findall(r'^```bash\n(.*?)^```', text, re.S | re.M)
    return [line.split('#')[0].split() for b in blocks
            for line in b.splitlines() if line.startswith('python ')]


@pytest.fixture(scope='module')
def user_repo(tmp_path_factory):
    """A folder laid out as the page assumes: ``configs/`` (the
    repository's), ``my_configs/`` (the page's files), ``data/casme2``."""
    root = tmp_path_factory.mktemp('user')
    os.symlink(osp.join(REPO, 'configs'), root / 'configs')
    for rel, text in doc_configs().items():
        (root / rel).parent.mkdir(exist_ok=True)
        (root / rel).write_text(text)
    fabricate.make_casme2(str(root / 'data' / 'casme2'))
    return root


def data_root(root):
    c2 = str(root / 'data' / 'casme2')
    return [f'train_dataloader.dataset.data_root={c2}',
            f'test_dataloader.dataset.data_root={c2}']


def run(root, argv):
    """A documented command with the repo's paths made the user folder's,
    one epoch, no data workers (tests run many at once)."""
    tool, args = argv[1], argv[2:]
    assert tool.startswith('tools/'), argv
    args = [str(root / a) if a.startswith(('my_configs/', 'work_dirs/'))
            else a for a in args]
    if tool == 'tools/misc/mmaction_tool.py':
        sys.path.insert(0, osp.join(REPO, 'tools', 'misc'))
        import mmaction_tool
        return mmaction_tool.main(args + ['--cfg-options'] + data_root(root))
    extra = data_root(root) + FAST + ['train_cfg.max_epochs=1']
    if tool == 'tools/train.py':  # 3 clips: one ResNet-50 step
        extra.append('train_dataloader.dataset.subjects=[sub01]')
    if tool == 'tools/loso.py':  # one fold, in the user folder
        assert args[1:] == ['--jobs', '2'], args
        args = args[:1] + ['--jobs', '1', '--folds', 'sub01', '--work-dir',
                           str(root / 'work_dirs' / 'loso')]
    return load_tool(tool[len('tools/'):-len('.py')]).main(
        args + ['--cfg-options'] + extra)


def test_the_page_shows_what_is_run():
    assert set(doc_configs()) == {'my_configs/tsn_r50_casme2.py',
                                  'my_configs/akm_r50_casme2.py',
                                  'my_configs/video_pipeline.py'}
    tools = [c[1] for c in doc_commands()]
    assert tools == ['tools/train.py', 'tools/test.py', 'tools/loso.py',
                     'tools/misc/mmaction_tool.py',
                     'tools/misc/mmaction_tool.py']


def test_mmaction_based_config_trains_tests_loso_and_tools(user_repo,
                                                           capsys):
    cfg = Config.fromfile(str(user_repo / 'my_configs' /
                              'tsn_r50_casme2.py'))
    # the base is MMAction2's own TSN (ResNet-50, TSNHead, 3 segments)
    assert cfg.model.type == 'Recognizer2D'
    assert cfg.model.backbone.depth == 50
    assert 'data_prefix' not in cfg.train_dataloader.dataset
    cmds = doc_commands()
    run(user_repo, cmds[0])  # train
    metrics = run(user_repo, cmds[1])  # test --dump
    assert metrics['num_samples'] == N_CLIPS
    assert {'acc', 'UF1', 'UAR'} <= set(metrics)
    dump = user_repo / 'work_dirs' / 'tsn_r50_casme2' / 'preds.pkl'
    preds = load_predictions(str(dump))
    assert len(preds) == N_CLIPS
    # PackActionInputs() as MMAction2 writes it: the ME metainfo arrives
    assert all(p['subject'].startswith('casme2/sub') and 'onset' in p
               and 'apex' in p for p in preds)
    run(user_repo, cmds[2])  # LOSO, one fold
    summary = (user_repo / 'work_dirs' / 'loso' /
               'loso_summary.md').read_text()
    assert 'Incomplete: 1 of 3 folds' in summary
    # MMAction2's tools on the dump
    capsys.readouterr()
    run(user_repo, cmds[3])  # eval_metric.py with MEMetric
    out = capsys.readouterr().out
    acc = float(re.search(r"'acc': ([0-9.]+)", out).group(1))
    assert acc == pytest.approx(metrics['acc'])
    run(user_repo, cmds[4])  # confusion_matrix.py
    png = user_repo / 'work_dirs' / 'tsn_r50_casme2' / 'cm.png'
    assert png.stat().st_size > 1000


def test_akm_neck_and_head_on_mmaction_resnet50(user_repo):
    path = str(user_repo / 'my_configs' / 'akm_r50_casme2.py')
    cfg = Config.fromfile(path)
    assert (cfg.model.type, cfg.model.backbone.type,
            cfg.model.backbone.depth) == ('AKMNet', 'ResNet', 50)
    work = user_repo / 'work_dirs' / 'akm_r50'
    load_tool('train').main([
        path, '--work-dir', str(work), '--cfg-options',
        *data_root(user_repo), *FAST, 'train_cfg.max_epochs=1',
        'train_dataloader.dataset.cache_dir=None',
        'train_dataloader.dataset.subjects=[sub01]'])
    assert (work / 'epoch_1.pth').is_file()


def test_mmaction_tool_names_its_tools(capsys):
    sys.path.insert(0, osp.join(REPO, 'tools', 'misc'))
    import mmaction_tool
    with pytest.raises(SystemExit):
        mmaction_tool.main(['analysis_tools/nope.py'])
    err = capsys.readouterr().err
    assert "'analysis_tools/nope.py' is not a tool of mmaction2" in err
    assert 'analysis_tools/confusion_matrix.py' in err


# ---------------------------------------------------------------- details
@pytest.fixture(scope='module')
def casme2(user_repo):
    return str(user_repo / 'data' / 'casme2')


def build(root, pipeline, **kw):
    init_default_scope('mmaction')
    return DATASETS.build(dict(
        type='CASME2Dataset', data_root=root, class_setup='paper4',
        ann_file='CASME2-coding-20140508.xlsx', pipeline=pipeline, **kw))


def test_default_pack_action_inputs_keeps_the_me_metainfo(casme2):
    ds = build(casme2, [dict(type='MESampleFrames'),
                        dict(type='MEFrameDecode'),
                        dict(type='FormatShape', input_format='NCHW'),
                        dict(type='PackActionInputs')], test_mode=True)
    sample = ds[0]['data_samples']
    info = ds.get_data_info(0)
    for key in ('subject', 'onset', 'apex', 'offset', 'clip_id'):
        assert sample.metainfo[key] == info[key], key
    # MMAction2's own keys stay, in its order, ahead of mmakm's
    keys = ds.pipeline.transforms[-1].meta_keys
    assert keys[:4] == ('img_shape', 'img_key', 'video_id', 'timestamp')
    assert set(ME_META_KEYS) <= set(keys)


@pytest.mark.parametrize('clip_len,interval,ok', [
    (3, 1, True),    # the shortest clips have 3 frames
    (4, 1, False), (2, 2, True), (2, 3, False)])
def test_sampleframes_that_would_loop_a_clip_is_refused(casme2, clip_len,
                                                        interval, ok):
    step = dict(type='SampleFrames', clip_len=clip_len,
                frame_interval=interval, num_clips=1, test_mode=True)
    pipeline = [step, dict(type='MEFrameDecode')]
    if ok:
        ds = build(casme2, pipeline)
        for i in range(len(ds)):
            inds = ds[i]['frame_inds']
            assert (np.diff(inds) > 0).all(), inds  # never wraps around
        return
    span = (clip_len - 1) * interval + 1
    with pytest.raises(PipelineError, match=(
            rf'CASME2Dataset: pipeline step 0 is SampleFrames\(clip_len='
            rf'{clip_len}, frame_interval={interval}, num_clips=1\), which '
            rf'reads {span} consecutive frames: \d+ of 10 clips are too '
            r'short \(shortest: casme2/sub\d+ \w+, 3 frames\).*loop.*'
            rf"MESampleFrames', num_frames={clip_len}")):
        build(casme2, pipeline)
    # padding with the last frame, said explicitly, is allowed
    step['out_of_bound_opt'] = 'repeat_last'
    build(casme2, pipeline)


def test_sampleframes_segments_past_a_short_clip_in_training(casme2):
    """TSN segments: in training, 8 segments on clips of 3-5 frames put
    the last segment at position T for T = 3 and 4 (MMAction2 rounds
    k * T / 8), which it loops to the onset; testing spaces them inside."""
    seg = dict(type='SampleFrames', clip_len=1, frame_interval=1,
               num_clips=8)
    with pytest.raises(PipelineError, match=(
            r'num_clips=8\), which in training, with more segments '
            r'\(num_clips=8\) than a clip has frames, places its last ones '
            r"past the offset.*MESampleFrames', num_clips=8\)")):
        build(casme2, [seg, dict(type='MEFrameDecode')])
    ds = build(casme2, [dict(seg, test_mode=True), dict(type='MEFrameDecode')],
               test_mode=True)
    for i in range(len(ds)):
        inds = ds[i]['frame_inds']
        assert (np.diff(inds) >= 0).all(), inds


def test_inherited_video_prefix_is_named(casme2):
    with pytest.raises(MissingFileError, match=(
            r"video file not found: .*data_prefix\['video'\] = "
            r"'.*kinetics400/videos_train' is not a folder.*_delete_=True")):
        build(casme2, [dict(type='MESampleFrames')],
              data_prefix=dict(video='data/kinetics400/videos_train'))


def test_kinetics_num_classes_is_refused_before_training(user_repo):
    path = str(user_repo / 'my_configs' / 'tsn_r50_casme2.py')
    with pytest.raises(SystemExit, match=r'^error: .*num_classes.*400'):
        load_tool('train').main([
            path, '--work-dir', str(user_repo / 'w400'), '--cfg-options',
            *data_root(user_repo), *FAST, 'model.cls_head.num_classes=400'])


def test_me_transforms_in_an_mmaction_video_pipeline(user_repo, tmp_path):
    """The page's pipeline on MMAction2's VideoDataset (a 20-frame video,
    frame k of value 10 k): 8 frames evenly over the video, grey, each
    frame's change from the first tripled."""
    fabricate.write_video(str(tmp_path / 'a.mp4'), 20, size=128)
    (tmp_path / 'list.txt').write_text('a.mp4 1\n')
    cfg = Config.fromfile(str(user_repo / 'my_configs' /
                              'video_pipeline.py'))
    init_default_scope('mmaction')
    ds = DATASETS.build(dict(
        type='VideoDataset', ann_file=str(tmp_path / 'list.txt'),
        data_prefix=dict(video=str(tmp_path)), pipeline=cfg.train_pipeline))
    out = ds[0]
    assert out['inputs'].shape == (1, 3, 8, 112, 112)
    np.testing.assert_array_equal(
        ds.prepare_data(0)['data_samples'].metainfo.get('img_shape'),
        (112, 112))
    values = out['inputs'][0, 0, :, 56, 56].float()
    expected = np.clip(10 * np.round(np.linspace(0, 19, 8)) * 3, 0, 255)
    np.testing.assert_allclose(values, expected, atol=12)  # mp4v rounding
    # MEFrameDecode on the same samples: refused, naming the decoder to use
    pipeline = [dict(type='DecordInit'), dict(type='MESampleFrames'),
                dict(type='MEFrameDecode')]
    ds = DATASETS.build(dict(
        type='VideoDataset', ann_file=str(tmp_path / 'list.txt'),
        data_prefix=dict(video=str(tmp_path)), pipeline=pipeline))
    with pytest.raises(PipelineError, match=(
            r"MEFrameDecode reads the onset..offset clips of mmakm's ME "
            r"datasets.*'filename'.*DecordInit \+ DecordDecode")):
        ds[0]


def test_unaveraged_clip_scores_are_named_not_taken_for_classes():
    """An MMAction2 head with average_clips=None (its default) tested on 2
    clips a sample gives pred_score (2, 4): before, MEMetric read 8 class
    scores and blamed num_classes."""
    import torch
    from mmakm.engine import ConfigMismatchError
    from mmakm.evaluation import MEMetric
    metric = MEMetric(classes=['a', 'b', 'c', 'd'])
    one = dict(gt_label=torch.tensor([1]), subject='casme2/sub01',
               corpus='casme2', pred_score=torch.tensor([[.1, .6, .2, .1]]))
    metric.process(None, [one])
    assert metric.compute_metrics(metric.results)['acc'] == 1.0
    two = dict(one, pred_score=torch.rand(2, 4))
    with pytest.raises(ConfigMismatchError, match=(
            r"pred_score of shape \(2, 4\): one row of class scores per test "
            r"clip or crop.*model.cls_head.average_clips='prob'")):
        metric.process(None, [two])


def test_loso_refuses_a_looping_sampleframes_once_before_any_fold(
        user_repo, tmp_path, capsys):
    """Before, each fold failed with it (on its own clips) instead."""
    path = str(user_repo / 'my_configs' / 'tsn_r50_casme2.py')
    work = tmp_path / 'loso'
    rc = load_tool('loso').main([
        path, '--work-dir', str(work), '--cfg-options',
        *data_root(user_repo), 'train_dataloader.dataset.pipeline.0.'
        'clip_len=8'])
    assert rc == 2
    assert re.match(r'error: CASME2Dataset: pipeline step 0 is SampleFrames'
                    r'\(clip_len=8, .*10 of 10 clips are too short',
                    capsys.readouterr().err.splitlines()[-1])
    assert not list(work.glob('fold_*'))
