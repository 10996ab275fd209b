# Single apex frame, ResNet-18 (paper Table VII) on CASME I: the annotated apex
# frame alone through AKMNet's ResNet-18 backbone, pooled, linear classifier;
# same crops, classes, sampler and schedule as configs/akm_casme1.py. Clips
# without an apex label are excluded and reported (require_apex=True).
_base_ = [
    '../_base_/models/single_frame_r18.py', '../_base_/datasets/casme1.py',
    '../_base_/schedules/sgd_cosine_40e.py', '../_base_/default_runtime.py'
]

model = dict(cls_head=dict(num_classes=4))
train_dataloader = dict(
    dataset=dict(require_apex=True, pipeline={{_base_.apex_train_pipeline}}))
test_dataloader = dict(
    dataset=dict(require_apex=True, pipeline={{_base_.apex_test_pipeline}}))
# MEMetric only: one frame, no key frames
test_evaluator = [dict(type='MEMetric')]
