# AKMNet configured as the authors' code runs (github
# Trunpm/AKMNet-Micro-Expression): gray frames scaled by 1/255, ResNet-18 with
# a 5x5 stride-2 stem, B = beta >= mean, the official gradient rule, bi-GRU
# 2x32, dropout 0.5, L_cls + 0.1 L_GS + 1 L_MMM. Checkpoints of that code load
# after tools/misc/convert_official_ckpt.py. Equal to
# mmakm.models.official.official_akmnet_cfg() (tested).
# Their training ran one clip per step, gradients accumulated over 8 clips
# (BatchNorm statistics of one clip at a time; a packed batch of several clips
# shares them): the nearest in mmakm is train_dataloader.batch_size=1 with
# optim_wrapper.accumulative_counts=8 (docs/method.md, conformance).
model = dict(
    type='AKMNet',
    data_preprocessor=dict(
        type='MEDataPreprocessor', channels=1, mean=[0.], std=[255.]),
    backbone=dict(
        type='FrameResNet', depth=18, in_channels=1, stem='paper',
        base_channels=64),
    neck=dict(
        type='KeyFrameMining', in_channels=512, selection='mining',
        threshold='>=', grad_rule='official'),
    cls_head=dict(
        type='PixelBiGRUHead',
        num_classes=4,
        in_channels=512,
        hidden_channels=32,
        num_layers=2,
        spatial_size=4,
        dropout_ratio=0.5,
        loss_cls=dict(type='CrossEntropyLoss'),
        average_clips='prob'),
    loss_aux=dict(type='GSMMMLoss', lambda_gs=0.1, lambda_mmm=1.0, margin=2.0))
