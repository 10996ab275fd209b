# Data pipelines and loaders shared by every licensed-corpus config; each
# corpus file (casme2.py, samm.py, ...) only names its dataset.
#
# Paper recipe (AKMNet): all frames onset..offset, resize 144 -> random crop
# 128 + flip for training; resize 128 -> centre crop 128 for testing;
# class-balanced sampling, 8 clips a batch. TSN / I3D baselines swap in the
# fixed-length pipelines below (`{{_base_.tsn_train_pipeline}}` etc.).

# ActionDataSample metainfo read by MEMetric / KeyFrameApexMetric
# (== mmakm.datasets.ME_META_KEYS)
me_meta_keys = ('subject', 'corpus', 'clip_id', 'onset', 'apex', 'offset',
                'emotion', 'fps', 'frame_numbers_fed', 'img_shape')


def _pipeline(sampling, train, input_format='NCHW'):
    # (not a config key: mmengine drops functions from configs)
    spatial = [
        dict(type='Resize', scale=(-1, 144)),
        dict(type='RandomCrop', size=128),
        dict(type='Flip', flip_ratio=0.5)
    ] if train else [
        dict(type='Resize', scale=(-1, 128)),
        dict(type='CenterCrop', crop_size=128)
    ]
    sampling = dict(type='MESampleFrames', **sampling)
    if not train:
        sampling['test_mode'] = True
    return [sampling, dict(type='MEFrameDecode')] + spatial + [
        dict(type='FormatShape', input_format=input_format),
        dict(type='PackActionInputs', meta_keys=me_meta_keys)
    ]


# AKMNet: every frame onset..offset, one variable-length clip per sample
train_pipeline = _pipeline(dict(), train=True)
test_pipeline = _pipeline(dict(), train=False)
# TSN: 8 segments of 1 frame; I3D: every clip resampled to 16 frames
tsn_train_pipeline = _pipeline(dict(num_clips=8, clip_len=1), train=True)
tsn_test_pipeline = _pipeline(dict(num_clips=8, clip_len=1), train=False)
i3d_train_pipeline = _pipeline(dict(num_frames=16), True, 'NCTHW')
i3d_test_pipeline = _pipeline(dict(num_frames=16), False, 'NCTHW')
# TIM-like length normalisation (paper's norm16..norm128): AKMNet on every
# clip resampled to K frames
tim_pipelines = {
    f'norm{k}': dict(
        train=_pipeline(dict(num_frames=k), train=True),
        test=_pipeline(dict(num_frames=k), train=False))
    for k in (16, 32, 64, 128)
}
# Single-frame ResNet-18 baselines (paper Table VII), with the datasets'
# require_apex=True: the annotated apex frame, or the max-beta key frame of
# the same LOSO fold's AKMNet (tools/loso.py configs/akm_<corpus>.py, then
# tools/misc/dump_fold_keyframes.py work_dirs/loso/akm_<corpus>); {corpus} and
# {fold} are filled per clip and per fold.
apex_train_pipeline = _pipeline(dict(mode='apex'), train=True)
apex_test_pipeline = _pipeline(dict(mode='apex'), train=False)
akm_keyframes = ('{{ fileDirname }}/../../../work_dirs/loso/akm_{corpus}/'
                 '{fold}/all_clips/predictions.pkl')
max_beta_train_pipeline = _pipeline(
    dict(mode='max_beta', predictions=akm_keyframes), train=True)
max_beta_test_pipeline = _pipeline(
    dict(mode='max_beta', predictions=akm_keyframes), train=False)

# variable-length clips: the default collate (pseudo_collate) keeps a list of
# (T_i, C, H, W) tensors, MEDataPreprocessor packs them without padding.
# persistent_workers=False: every epoch's workers are seeded afresh, which
# keeps a resumed run identical to an uninterrupted one.
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='ClassBalancedSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(pipeline=test_pipeline, test_mode=True))

test_evaluator = [dict(type='MEMetric'), dict(type='KeyFrameApexMetric')]
