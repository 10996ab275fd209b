# AKMNet configured as the authors' code runs (github
# Trunpm/AKMNet-Micro-Expression): gray frames scaled by 1/255, ResNet-18 with
# a 5x5 stride-2 stem, B = beta >= mean, the official gradient rule; the rest
# (bi-GRU 2x32, dropout 0.5, L_cls + 0.1 L_GS + 1 L_MMM) as akmnet_r18.py.
# Checkpoints of that code load after tools/misc/convert_official_ckpt.py.
# Matches mmakm.models.official.official_akmnet_cfg() (tested).
# Their training ran one clip per step, gradients accumulated over 8 clips
# (BatchNorm statistics of one clip at a time; a packed batch of several clips
# shares them): the nearest in mmakm is train_dataloader.batch_size=1 with
# optim_wrapper.accumulative_counts=8 (docs/method.md, conformance).
_base_ = ['./akmnet_r18.py']

model = dict(
    data_preprocessor=dict(channels=1, mean=[0.], std=[255.]),
    backbone=dict(in_channels=1, stem='paper', base_channels=64),
    neck=dict(threshold='>=', grad_rule='official'))
