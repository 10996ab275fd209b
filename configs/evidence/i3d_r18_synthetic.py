# I3D-style baseline on the synthetic corpus at the narrow width: MMAction2's
# ResNet3d, depth 18, 16 base channels (128 features, as the 2D models), every
# 3x3 conv inflated to 3x3x3, from scratch; 16 frames evenly spaced over the
# clip; same magnification, crops, sampler and schedule as AKMNet / TSN.
_base_ = [
    '../_base_/models/i3d_r50.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adamw_cosine_15e.py', '../_base_/default_runtime.py'
]

model = dict(
    backbone=dict(
        depth=18,
        base_channels=16,
        conv1_kernel=(3, 7, 7),
        inflate=((1, 1), (1, 1), (1, 1), (1, 1))),
    cls_head=dict(num_classes=4, in_channels=128))
train_dataloader = dict(dataset=dict(pipeline={{_base_.i3d_train_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.i3d_test_pipeline}}))
# MEMetric only: I3D predicts no key frames
test_evaluator = [dict(type='MEMetric')]
default_hooks = dict(logger=dict(interval=5))
