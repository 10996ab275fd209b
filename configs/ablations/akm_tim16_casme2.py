# TIM-like length normalisation: every clip resampled to 16 frames (instead
# of all its onset..offset frames), then AKMNet with key-frame mining.
_base_ = ['../akm_casme2.py']

train_dataloader = dict(
    dataset=dict(pipeline={{_base_.tim_pipelines.norm16.train}}))
test_dataloader = dict(
    dataset=dict(pipeline={{_base_.tim_pipelines.norm16.test}}))
