# The CASME II-sized LOSO at toy sizes, for CPU checks of the timing tools
# (tools/benchmarks/bench_runner_overhead.py, gpu_casme2_sized.sh with
# DEVICE=cpu): the same corpus plan (255 clips, 26 subjects, the same clip
# lengths), loaders, runner and hooks, with 36 px frames, a 32 px crop and
# a ResNet-18 of 8 base channels, so that the runner's share of a step shows.
_base_ = ['./akm_casme2_sized.py']

corpus = dict(type='casme2_sized', size=36, seed=0)
crop_size = 32
width = 8 * 8  # FrameResNet output channels at base_channels=8

model = dict(
    data_preprocessor=dict(corpus=corpus, crop_size=crop_size),
    backbone=dict(base_channels=8),
    neck=dict(in_channels=width),
    cls_head=dict(in_channels=width, spatial_size=1))
train_dataloader = dict(dataset=dict(corpus=corpus, crop_size=crop_size))
test_dataloader = dict(dataset=dict(corpus=corpus, crop_size=crop_size))
