# MMAction2 TSN (ResNet-18, from scratch unless a pretrained path is given)
# on smic: 8 segments of 1 frame each, same crops, classes, sampler and
# schedule as the AKMNet recipe.
_base_ = [
    '../_base_/models/tsn_r18.py', '../_base_/datasets/smic.py',
    '../_base_/schedules/sgd_cosine_40e.py', '../_base_/default_runtime.py'
]

model = dict(cls_head=dict(num_classes=3))
train_dataloader = dict(dataset=dict(pipeline={{_base_.tsn_train_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.tsn_test_pipeline}}))
# MEMetric only: TSN predicts no key frames
test_evaluator = [dict(type='MEMetric')]
