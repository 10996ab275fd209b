# MMAction2 I3D (ResNet-50 3D, from scratch unless a pretrained path is
# given) on megc2019: every clip resampled to 16 frames, same crops, classes,
# sampler and schedule as the AKMNet recipe.
_base_ = [
    '../_base_/models/i3d_r50.py', '../_base_/datasets/megc2019.py',
    '../_base_/schedules/sgd_cosine_40e.py', '../_base_/default_runtime.py'
]

model = dict(cls_head=dict(num_classes=3))

me_meta_keys = ('subject', 'corpus', 'clip_id', 'onset', 'apex', 'offset',
                'emotion', 'fps', 'frame_numbers_fed', 'img_shape')
train_pipeline = [
    dict(type='MESampleFrames', num_frames=16),
    dict(type='MEFrameDecode'),
    dict(type='Resize', scale=(-1, 144)),
    dict(type='RandomCrop', size=128),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', meta_keys=me_meta_keys)
]
test_pipeline = [
    dict(type='MESampleFrames', num_frames=16, test_mode=True),
    dict(type='MEFrameDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=128),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', meta_keys=me_meta_keys)
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
# MEMetric only: I3D predicts no key frames
test_evaluator = [dict(type='MEMetric')]
