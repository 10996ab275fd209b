# AKMNet (Peng et al., arXiv 2009.09179): per-frame ResNet-18, key-frame
# mining neck, pixel-wise shared bi-GRU head, L_cls + 0.1 L_GS + 1 L_MMM.
model = dict(
    type='AKMNet',
    data_preprocessor=dict(
        type='MEDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='FrameResNet',
        depth=18,
        in_channels=3,
        stem='torchvision',
        # ImageNet(+AffectNet) weights as in the paper: a torchvision-style
        # resnet18 checkpoint path, e.g. 'checkpoints/resnet18.pth'
        pretrained=None),
    neck=dict(
        type='KeyFrameMining',
        in_channels=512,
        # 'mining' (AKMNet); ablations: 'soft' (s12), 'random', 'all'
        selection='mining',
        use_local_attention=True,
        use_global_correlation=True,
        threshold='>',  # paper; '>=' = official code
        grad_rule='paper'),  # eqs 16-17; 'official' = official code
    cls_head=dict(
        type='PixelBiGRUHead',
        num_classes=4,
        in_channels=512,
        hidden_channels=32,
        num_layers=2,
        spatial_size=4,  # 128x128 input -> 4x4
        dropout_ratio=0.5,
        loss_cls=dict(type='CrossEntropyLoss'),
        average_clips='prob'),
    loss_aux=dict(type='GSMMMLoss', lambda_gs=0.1, lambda_mmm=1.0, margin=2.0))
