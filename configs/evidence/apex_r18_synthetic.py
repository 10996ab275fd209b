# "Single apex frame, ResNet-18" on the synthetic corpus: the annotated apex
# frame alone through the same narrow ResNet-18 as TSN (one segment), same
# schedule. MEMagnify has no reference frame then (a single frame is its own
# first frame), so the network sees the apex unmagnified.
_base_ = ['../baselines/tsn_r18_synthetic.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.apex_train_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.apex_test_pipeline}}))
