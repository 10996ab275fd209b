# MMAction2 TSN on the built-in synthetic corpus: fixed-T input, 8 segments
# of 1 frame, same narrow ResNet-18 (FrameResNet, 16 base channels, from
# scratch), pipeline, sampler and schedule as configs/akm_synthetic.py (the
# LOSO demo baseline: same backbone, only the temporal model differs).
_base_ = [
    '../_base_/models/tsn_r18.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/sgd_cosine_40e.py', '../_base_/default_runtime.py'
]

model = dict(
    backbone=dict(
        _delete_=True, type='FrameResNet', depth=18, base_channels=16),
    cls_head=dict(num_classes=4, in_channels=128))

me_meta_keys = ('subject', 'corpus', 'clip_id', 'onset', 'apex', 'offset',
                'emotion', 'fps', 'frame_numbers_fed', 'img_shape')
train_pipeline = [
    dict(type='MESampleFrames', num_clips=8, clip_len=1),
    dict(type='MEFrameDecode'),
    dict(type='MEMagnify', alpha=5.0),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs', meta_keys=me_meta_keys)
]
test_pipeline = [
    dict(type='MESampleFrames', num_clips=8, clip_len=1, test_mode=True),
    dict(type='MEFrameDecode'),
    dict(type='MEMagnify', alpha=5.0),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=64),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs', meta_keys=me_meta_keys)
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_evaluator = [dict(type='MEMetric')]

max_epochs = 30
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=1e-4))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=1e-8,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=5))
