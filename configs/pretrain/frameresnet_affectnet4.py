# Macro-expression pretraining of AKMNet's per-frame ResNet-18 (paper:
# ImageNet -> AffectNet, 4 classes positive / negative / surprise / others,
# 1000 images per class). An image recognizer (MMAction2's Recognizer2D on
# one-frame clips) trains FrameResNet; at the end BackboneExportHook writes
# work_dirs/frameresnet_affectnet4/backbone.pth, which the ME configs load
# with model.backbone.pretrained=... (configs/pretrain/akm_casme2_affectnet.py).
#
#   python tools/train.py configs/pretrain/frameresnet_affectnet4.py \
#       [--cfg-options model.backbone.pretrained=checkpoints/resnet18.pth]
_base_ = [
    '../_base_/models/tsn_r18.py', '../_base_/datasets/face_images.py',
    '../_base_/default_runtime.py'
]

# ImageNet start: a torchvision resnet18 state dict (None: from scratch)
imagenet_weights = None
# Recognizer2D + TSNHead on one-frame clips, AKMNet's per-frame backbone
model = dict(
    backbone=dict(
        _delete_=True,
        type='FrameResNet',
        depth=18,
        stem='torchvision',
        pretrained=imagenet_weights),
    cls_head=dict(num_classes=4, in_channels=512, dropout_ratio=0.5))

data_root = 'data/affectnet'
train_dataloader = dict(
    dataset=dict(
        type='AffectNetDataset',
        data_root=data_root,
        ann_file='training.csv',
        class_setup='paper4',
        per_class=1000,  # paper; drawn with `seed`
        seed=0))
# validation on AffectNet's own validation set (not on any ME subject)
val_dataloader = dict(
    _delete_=True,
    batch_size=32,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='AffectNetDataset',
        data_root=data_root,
        ann_file='validation.csv',
        class_setup='paper4',
        pipeline={{_base_.test_pipeline}},
        test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='AccMetric')
test_evaluator = val_evaluator

max_epochs = 20
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
val_cfg = dict(_delete_=True, type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-2, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-6,
         by_epoch=True, begin=0, end=max_epochs,
         convert_to_iter_based=True)
]
auto_scale_lr = dict(enable=False, base_batch_size=32)

custom_hooks = [dict(type='BackboneExportHook', filename='backbone.pth')]
