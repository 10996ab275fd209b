# AKMNet paper recipe on CASME II starting from the macro-expression
# backbone (ImageNet -> AffectNet -> ME, as in the paper). Make the backbone
# first: python tools/train.py configs/pretrain/frameresnet_affectnet4.py
_base_ = ['../akm_casme2.py']

model = dict(
    backbone=dict(
        pretrained='work_dirs/frameresnet_affectnet4/backbone.pth'))
