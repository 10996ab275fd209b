# MMAction2 TSN (ResNet-18, from scratch unless a pretrained path is given)
# on samm: 8 segments of 1 frame each (TSN-style), same crops, classes,
# sampler and schedule as the AKMNet recipe.
_base_ = [
    '../_base_/models/tsn_r18.py', '../_base_/datasets/samm.py',
    '../_base_/schedules/sgd_cosine_40e.py', '../_base_/default_runtime.py'
]

model = dict(cls_head=dict(num_classes=4))

me_meta_keys = ('subject', 'corpus', 'clip_id', 'onset', 'apex', 'offset',
                'emotion', 'fps', 'frame_numbers_fed', 'img_shape')
train_pipeline = [
    dict(type='MESampleFrames', num_clips=8, clip_len=1),
    dict(type='MEFrameDecode'),
    dict(type='Resize', scale=(-1, 144)),
    dict(type='RandomCrop', size=128),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs', meta_keys=me_meta_keys)
]
test_pipeline = [
    dict(type='MESampleFrames', num_clips=8, clip_len=1, test_mode=True),
    dict(type='MEFrameDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=128),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs', meta_keys=me_meta_keys)
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
# MEMetric only: TSN predicts no key frames
test_evaluator = [dict(type='MEMetric')]
