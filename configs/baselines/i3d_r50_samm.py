# MMAction2 I3D (ResNet-50 3D, from scratch unless a pretrained path is given)
# on samm: every clip resampled to 16 frames, same crops, classes, sampler and
# schedule as the AKMNet recipe.
_base_ = [
    '../_base_/models/i3d_r50.py', '../_base_/datasets/samm.py',
    '../_base_/schedules/sgd_cosine_40e.py', '../_base_/default_runtime.py'
]

model = dict(cls_head=dict(num_classes=4))
train_dataloader = dict(dataset=dict(pipeline={{_base_.i3d_train_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.i3d_test_pipeline}}))
# MEMetric only: I3D predicts no key frames
test_evaluator = [dict(type='MEMetric')]
