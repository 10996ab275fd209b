# Runnable pretraining demo on the synthetic still corpus (RAF-DB layout,
# cartoon faces, 4 expressions; no licensed data needed):
#   python tools/misc/make_synthetic_stills.py data/synthetic_stills
#   python tools/train.py configs/pretrain/frameresnet_stills4.py
# The narrow ResNet-18 of configs/akm_synthetic.py (16 base channels) at
# 64 px, so work_dirs/frameresnet_stills4/backbone.pth fits it
# (configs/pretrain/akm_synthetic_stills.py).
_base_ = ['./frameresnet_rafdb4.py']

train_pipeline = [
    dict(type='LoadFaceImage'),
    dict(type='Resize', scale=(72, 72), keep_ratio=False),
    dict(type='RandomCrop', size=64),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs', meta_keys=('emotion', 'corpus'))
]
test_pipeline = [
    dict(type='LoadFaceImage'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs', meta_keys=('emotion', 'corpus'))
]
model = dict(
    backbone=dict(base_channels=16), cls_head=dict(in_channels=128))
train_dataloader = dict(
    num_workers=0,
    dataset=dict(data_root='data/synthetic_stills', pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    dataset=dict(data_root='data/synthetic_stills', pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-6,
         by_epoch=True, begin=0, end=max_epochs,
         convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=5))
