# One frame, ResNet-18: the single-frame classifiers of the paper's Table VII
# ("apex frame only", "max-beta key frame only"). The backbone is AKMNet's
# (configs/_base_/models/akmnet_r18.py: FrameResNet, same stem, same
# pretrained option); global average pooling, dropout 0.5 as AKMNet's head,
# a linear classifier (MMAction2's Recognizer2D + TSNHead on 1 segment).
model = dict(
    type='Recognizer2D',
    backbone=dict(
        type='FrameResNet',
        depth=18,
        in_channels=3,
        stem='torchvision',
        pretrained=None),
    cls_head=dict(
        type='TSNHead',
        num_classes=4,
        in_channels=512,
        spatial_type='avg',
        consensus=dict(type='AvgConsensus', dim=1),
        dropout_ratio=0.5,
        init_std=0.01,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCHW'),
    train_cfg=None,
    test_cfg=None)
