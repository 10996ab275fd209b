# MMAction2 TSN on the built-in synthetic corpus: fixed-T input, 8 segments
# of 1 frame, same narrow ResNet-18 (FrameResNet, 16 base channels, from
# scratch), pipeline, sampler and schedule as configs/akm_synthetic.py (the
# LOSO demo baseline: same backbone, only the temporal model differs).
_base_ = [
    '../_base_/models/tsn_r18.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adamw_cosine_15e.py', '../_base_/default_runtime.py'
]

model = dict(
    backbone=dict(
        _delete_=True, type='FrameResNet', depth=18, base_channels=16),
    cls_head=dict(num_classes=4, in_channels=128))

train_dataloader = dict(dataset=dict(pipeline={{_base_.tsn_train_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.tsn_test_pipeline}}))
# MEMetric only: TSN predicts no key frames
test_evaluator = [dict(type='MEMetric')]

default_hooks = dict(logger=dict(interval=5))
