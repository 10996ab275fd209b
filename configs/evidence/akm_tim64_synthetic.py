# TIM-like length normalisation on the synthetic corpus: every clip resampled
# to 64 frames (from the 200 fps frames, not every 4th), then AKMNet.
_base_ = ['../akm_synthetic.py']

train_dataloader = dict(
    dataset=dict(pipeline={{_base_.tim_pipelines.norm64.train}}))
test_dataloader = dict(
    dataset=dict(pipeline={{_base_.tim_pipelines.norm64.test}}))
