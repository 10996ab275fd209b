# AKMNet paper recipe on CASME II, set up for one CUDA GPU. Every option here
# also runs on CPU (bf16 autocast there), so the config is testable anywhere.
_base_ = ['./akm_casme2.py']

model = dict(
    # NHWC convolutions: cuDNN's fastest kernels under bf16/fp16
    backbone=dict(channels_last=True),
    # clips travel as uint8 from pinned memory, asynchronously; they are
    # packed (no padding) and normalised on the GPU
    data_preprocessor=dict(non_blocking=True))

# mixed precision: bf16 on GPUs that support it (Ampere and newer) and on
# CPU, fp16 + dynamic loss scaling otherwise (`tools/train.py --amp` sets
# the same wrapper on any config)
optim_wrapper = dict(type='AutocastOptimWrapper', dtype='auto')

train_dataloader = dict(pin_memory=True)
test_dataloader = dict(pin_memory=True)

# every packed batch has a different number of frames: cudnn.benchmark would
# re-tune the convolutions for each new shape, so it stays off
env_cfg = dict(cudnn_benchmark=False)
