# One frame, ResNet-18: the single-frame classifiers of the paper's Table VII
# ("apex frame only", "max-beta key frame only"). MMAction2's TSN head on one
# segment (global average pooling, dropout, linear) over AKMNet's backbone
# (configs/_base_/models/akmnet_r18.py: FrameResNet, same stem and pretrained
# option; tested equal), dropout 0.5 as AKMNet's head.
_base_ = ['./tsn_r18.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='FrameResNet',
        depth=18,
        in_channels=3,
        stem='torchvision',
        pretrained=None),
    cls_head=dict(dropout_ratio=0.5))
