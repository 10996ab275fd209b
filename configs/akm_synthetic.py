# AKMNet on the built-in synthetic corpus (generated on first use): a short
# schedule that finishes on a 2-core CPU (the LOSO demo runs 6 folds).
_base_ = [
    './_base_/models/akmnet_r18.py', './_base_/datasets/synthetic.py',
    './_base_/schedules/sgd_cosine_40e.py', './_base_/default_runtime.py'
]

# A narrower ResNet-18 (16 base channels: 128 features instead of 512) from
# scratch; 64 px input -> 2x2 positions for the bi-GRU head.
model = dict(
    backbone=dict(base_channels=16),
    neck=dict(in_channels=128),
    cls_head=dict(num_classes=4, in_channels=128, spatial_size=2))

# 30 epochs (~240 iterations): at 6 the held-out subjects stayed at chance
max_epochs = 30
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# AdamW converges faster than the paper's SGD 1e-3 from scratch on this
# small corpus (SGD 1e-2..5e-2 did not move the loss in 8 epochs)
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=1e-4))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=1e-8,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=5))
