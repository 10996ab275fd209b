# "Single apex frame, ResNet-18" on the synthetic corpus: the annotated apex
# frame alone through the same narrow ResNet-18 (16 base channels) as the
# other rows, pooled, linear classifier (configs/_base_/models/
# single_frame_r18.py), same schedule. MEMagnify has no reference frame then
# (a single frame is its own first frame): the network sees the apex
# unmagnified, while the paper's apex frame came from a magnified clip.
_base_ = [
    '../_base_/models/single_frame_r18.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adamw_cosine_15e.py', '../_base_/default_runtime.py'
]

model = dict(
    backbone=dict(base_channels=16),
    cls_head=dict(num_classes=4, in_channels=128))
train_dataloader = dict(dataset=dict(pipeline={{_base_.apex_train_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.apex_test_pipeline}}))
# MEMetric only: one frame, no key frames
test_evaluator = [dict(type='MEMetric')]
default_hooks = dict(logger=dict(interval=5))
