# AKMNet on the built-in synthetic corpus (generated on first use): a short
# schedule that finishes on a 2-core CPU (the LOSO demo runs 8 folds).
_base_ = [
    './_base_/models/akmnet_r18.py', './_base_/datasets/synthetic.py',
    './_base_/schedules/adamw_cosine_15e.py', './_base_/default_runtime.py'
]

# A narrower ResNet-18 (16 base channels: 128 features instead of 512) from
# scratch; 40 px input -> 2x2 positions for the bi-GRU head.
model = dict(
    backbone=dict(base_channels=16),
    neck=dict(in_channels=128),
    cls_head=dict(num_classes=4, in_channels=128, spatial_size=2))

default_hooks = dict(logger=dict(interval=5))
