"""mmakm datasets under MMAction2's recognizers, mmakm's neck + head on
MMAction2 backbones, MMAction2's own samplers on ME samples -- through
``tools/train.py`` and ``tools/test.py`` as a user writes such configs --
and the mixes that cannot work, refused with a message saying what to
change.

The corpus is CASME II as shipped (``tests/fabricate.py``: 10 clips of 3-5
frames, 3 subjects); frames are resized to 32 px so that each mix trains
one epoch and tests in seconds.
"""
import os.path as osp
import sys

import numpy as np
import pytest

import mmakm  # noqa: F401  (before Config.fromfile)
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmaction.registry import DATASETS
from mmakm.datasets import PipelineError
from mmakm.engine import ConfigMismatchError, check_clip_batching
from mmakm.loso.report import load_predictions

from tools_testlib import REPO, load_tool

sys.path.insert(0, osp.join(REPO, 'tests'))
import fabricate  # noqa: E402

BASE = osp.join(REPO, 'configs', '_base_')
ME_META = ('subject', 'corpus', 'clip_id', 'onset', 'apex', 'offset',
           'emotion', 'fps', 'frame_numbers_fed', 'img_shape')
NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
N_CLIPS = fabricate.EXPECTED['casme2']['paper4']


@pytest.fixture(scope='module')
def casme2(tmp_path_factory):
    return fabricate.make_casme2(str(tmp_path_factory.mktemp('c2') / 'c2'))


def pipeline(sampling, train, input_format='NCHW', size=32,
             decode='MEFrameDecode'):
    """A user's pipeline: a sampler, a decoder, 32 px, flip in training."""
    steps = [dict(sampling, test_mode=not train), dict(type=decode),
             dict(type='Resize', scale=(size, size), keep_ratio=False)]
    if train:
        steps.append(dict(type='Flip', flip_ratio=0.5))
    return steps + [dict(type='FormatShape', input_format=input_format),
                    dict(type='PackActionInputs', meta_keys=ME_META)]


def write_config(path, root, model, sampling, input_format='NCHW',
                 batch_size=4):
    """A config as the README's mixes are written: mmakm's CASME II
    dataset, schedule and runtime, another model, 1 epoch."""
    text = f'''_base_ = [{osp.join(BASE, 'datasets', 'casme2.py')!r},
          {osp.join(BASE, 'schedules', 'sgd_cosine_40e.py')!r},
          {osp.join(BASE, 'default_runtime.py')!r}]
model = {model!r}
train_dataloader = dict(batch_size={batch_size}, num_workers=0, dataset=dict(
    data_root={root!r},
    pipeline={pipeline(sampling, True, input_format)!r}))
test_dataloader = dict(num_workers=0, dataset=dict(
    data_root={root!r},
    pipeline={pipeline(sampling, False, input_format)!r}))
test_evaluator = [dict(type='MEMetric')]
train_cfg = dict(max_epochs=1)
default_hooks = dict(logger=dict(interval=1))
'''
    path.write_text(text)
    return str(path)


def akm_on(backbone, channels):
    """AKMNet's neck + head on another backbone (1x1 features at 32 px)."""
    return dict(
        type='AKMNet', backbone=backbone,
        data_preprocessor=dict(type='MEDataPreprocessor', **NORM),
        neck=dict(type='KeyFrameMining', in_channels=channels),
        cls_head=dict(type='PixelBiGRUHead', num_classes=4,
                      in_channels=channels, hidden_channels=8,
                      num_layers=1, spatial_size=1))


SEGMENTS = dict(type='MESampleFrames', num_clips=8, clip_len=1)
MIXES = {
    # TSM: MMAction2's ResNetTSM (temporal shift over 8 segments) + TSMHead
    'tsm': (dict(
        type='Recognizer2D',
        backbone=dict(type='ResNetTSM', depth=18, pretrained=None,
                      pretrained2d=False, num_segments=8),
        cls_head=dict(type='TSMHead', num_classes=4, in_channels=512,
                      num_segments=8, average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor',
                               format_shape='NCHW', **NORM)),
        SEGMENTS, 'NCHW'),
    # X3D: a 3D recognizer on clips resampled to 8 frames (NCTHW)
    'x3d': (dict(
        type='Recognizer3D',
        backbone=dict(type='X3D', gamma_w=1, gamma_b=2.25, gamma_d=1),
        cls_head=dict(type='X3DHead', in_channels=432, num_classes=4,
                      average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor',
                               format_shape='NCTHW', **NORM)),
        dict(type='MESampleFrames', num_frames=8), 'NCTHW'),
    # TSN sampling with MMAction2's own SampleFrames (decoded by mmakm)
    'tsn_sampleframes': (dict(
        type='Recognizer2D',
        backbone=dict(type='ResNet', depth=18, pretrained=None),
        cls_head=dict(type='TSNHead', num_classes=4, in_channels=512,
                      average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor',
                               format_shape='NCHW', **NORM)),
        dict(type='SampleFrames', clip_len=1, frame_interval=1,
             num_clips=3), 'NCHW'),
    # AKMNet's neck + head on MMAction2's MobileNetV2 (variable lengths)
    'akm_mobilenetv2': (akm_on(
        dict(type='MobileNetV2', pretrained=None, widen_factor=0.25), 1280),
        dict(type='MESampleFrames'), 'NCHW'),
}


@pytest.mark.parametrize('mix', sorted(MIXES))
def test_mix_trains_and_tests_through_the_tools(mix, casme2, tmp_path):
    model, sampling, fmt = MIXES[mix]
    cfg = write_config(tmp_path / f'{mix}.py', casme2, model, sampling, fmt)
    work = tmp_path / 'work'
    load_tool('train').main([cfg, '--work-dir', str(work), '--seed', '0'])
    dump = tmp_path / 'preds.pkl'
    metrics = load_tool('test').main([cfg, 'last', '--work-dir', str(work),
                                      '--dump', str(dump)])
    assert metrics['num_samples'] == N_CLIPS
    assert 0.0 <= metrics['acc'] <= 1.0
    preds = load_predictions(str(dump))
    assert len(preds) == N_CLIPS
    assert {p['subject'] for p in preds} == set(
        fabricate.EXPECTED['casme2']['subjects'])
    assert all(p['pred_score'].shape[-1] == 4 for p in preds)
    if model['type'] == 'AKMNet':  # key frames over the whole clip as fed
        assert all(len(p['frame_weights']) == len(p['frame_numbers_fed'])
                   for p in preds)
        # MMAction2's own confusion matrix tool reads the dump
        sys.path.insert(0, osp.join(REPO, 'tools', 'misc'))
        import mmaction_tool
        png = tmp_path / 'cm.png'
        mmaction_tool.main(['analysis_tools/confusion_matrix.py', cfg,
                            str(dump), '--show-path', str(png)])
        assert png.stat().st_size > 1000


def test_sampleframes_positions_are_the_clips_frames(casme2):
    """MMAction2's SampleFrames picks positions 0..T-1 within onset..offset
    (start_index 0), which MEFrameDecode reads from the clip's own frames
    (fabricated frame n has blue value n, up to JPEG rounding)."""
    init_default_scope('mmaction')
    ds = DATASETS.build(dict(
        type='CASME2Dataset', data_root=casme2, class_setup='paper4',
        ann_file='CASME2-coding-20140508.xlsx', test_mode=True,
        pipeline=[dict(type='SampleFrames', clip_len=1, frame_interval=1,
                       num_clips=8, test_mode=True),
                  dict(type='MEFrameDecode')]))
    for i in range(len(ds)):
        info, out = ds.get_data_info(i), ds[i]
        inds = out['frame_inds']
        assert len(out['imgs']) == len(inds) == 8
        assert 0 <= inds.min() and inds.max() < info['total_frames']
        numbers = info['frame_numbers'][inds]
        blue = np.array([int(img[0, 0, 2]) for img in out['imgs']])
        assert np.abs(blue - numbers).max() <= 2, (blue, numbers)


@pytest.mark.parametrize('decoder', [
    [dict(type='SampleFrames', clip_len=1, num_clips=3),
     dict(type='RawFrameDecode')],
    [dict(type='DecordInit'), dict(type='SampleFrames', clip_len=1,
                                   num_clips=3),
     dict(type='DecordDecode')],
])
def test_mmaction_decoders_are_refused_naming_the_step(decoder, casme2):
    """RawFrameDecode would fail on 'frame_dir' (and add the annotated
    offset frame number to every index); DecordInit would make the whole
    video the clip: both refused when the dataset is built."""
    init_default_scope('mmaction')
    step = 1 if decoder[1]['type'] == 'RawFrameDecode' else 0
    with pytest.raises(PipelineError,
                       match=rf"CASME2Dataset: pipeline step {step} is "
                       rf"{decoder[step]['type']}.*MEFrameDecode"):
        DATASETS.build(dict(
            type='CASME2Dataset', data_root=casme2, class_setup='paper4',
            ann_file='CASME2-coding-20140508.xlsx', pipeline=decoder))


TSN = MIXES['tsn_sampleframes'][0]


def _cfg(tmp_path, casme2, model, sampling, fmt='NCHW', batch_size=4):
    return Config.fromfile(write_config(tmp_path / 'c.py', casme2, model,
                                        sampling, fmt, batch_size))


@pytest.mark.parametrize('sampling,fmt', [
    (SEGMENTS, 'NCHW'), (dict(type='MESampleFrames', num_frames=8), 'NCTHW'),
    (dict(type='MESampleFrames', mode='apex'), 'NCHW'),
    (dict(type='SampleFrames', clip_len=1, num_clips=3), 'NCHW')])
def test_fixed_length_clips_pass_the_batching_check(sampling, fmt, casme2,
                                                    tmp_path):
    check_clip_batching(_cfg(tmp_path, casme2, TSN, sampling, fmt))


def test_variable_length_clips_under_action_preprocessor_refused(
        casme2, tmp_path):
    """Every frame onset..offset under ActionDataPreprocessor: a batch of
    clips of different lengths cannot be stacked (it would fail at the
    first such batch, deep in the run); one clip a batch is fine."""
    every = dict(type='MESampleFrames', stride=2)
    with pytest.raises(ConfigMismatchError,
                       match=r'train_dataloader: .*MESampleFrames.*'
                       r'ActionDataPreprocessor.*batch_size=4.*num_clips=N'):
        check_clip_batching(_cfg(tmp_path, casme2, TSN, every))
    check_clip_batching(_cfg(tmp_path, casme2, TSN, every, batch_size=1))
    # AKMNet given ActionDataPreprocessor: the same refusal
    akm = akm_on(dict(type='ResNet', depth=18), 512)
    akm['data_preprocessor'] = TSN['data_preprocessor']
    with pytest.raises(ConfigMismatchError, match='ActionDataPreprocessor'):
        check_clip_batching(_cfg(tmp_path, casme2, akm, every))


def test_packing_preprocessor_under_mmaction_recognizer_refused(
        casme2, tmp_path):
    model = dict(TSN, data_preprocessor=dict(type='MEDataPreprocessor',
                                             **NORM))
    with pytest.raises(ConfigMismatchError,
                       match=r'MEDataPreprocessor packs .*model Recognizer2D'
                       r".*type='ActionDataPreprocessor'"):
        check_clip_batching(_cfg(tmp_path, casme2, model, SEGMENTS))


def test_train_prints_the_mismatch_before_any_work(casme2, tmp_path):
    cfg = write_config(tmp_path / 'c.py', casme2, TSN,
                       dict(type='MESampleFrames'))
    work = tmp_path / 'work'
    with pytest.raises(SystemExit,
                       match=r'^error: train_dataloader: .*MESampleFrames'):
        load_tool('train').main([cfg, '--work-dir', str(work)])
    assert not list(work.glob('*.pth'))


def test_missing_load_from_is_one_line(casme2, tmp_path):
    """MMAction2's ``load_from`` (fine-tuning) naming a missing file: the
    message alone, as for --resume."""
    model, sampling, fmt = MIXES['tsn_sampleframes']
    cfg = write_config(tmp_path / 'c.py', casme2, model, sampling, fmt)
    absent = tmp_path / 'absent.pth'
    with pytest.raises(SystemExit,
                       match=rf'^error: checkpoint not found: {absent}$'):
        load_tool('train').main([cfg, '--work-dir', str(tmp_path / 'w'),
                                 '--cfg-options', f'load_from={absent}'])
