# TIM-like length normalisation: every clip resampled to 64 frames (instead
# of all its onset..offset frames), then AKMNet with key-frame mining.
_base_ = ['../akm_casme2.py']

me_meta_keys = ('subject', 'corpus', 'clip_id', 'onset', 'apex', 'offset',
                'emotion', 'fps', 'frame_numbers_fed', 'img_shape')
train_pipeline = [
    dict(type='MESampleFrames', num_frames=64),
    dict(type='MEFrameDecode'),
    dict(type='Resize', scale=(-1, 144)),
    dict(type='RandomCrop', size=128),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs', meta_keys=me_meta_keys)
]
test_pipeline = [
    dict(type='MESampleFrames', num_frames=64, test_mode=True),
    dict(type='MEFrameDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=128),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs', meta_keys=me_meta_keys)
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
