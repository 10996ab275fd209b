# AKMNet on the built-in synthetic ME corpus, starting from the backbone
# pretrained on the synthetic stills (configs/pretrain/frameresnet_stills4.py):
# the pretraining chain end to end on a CPU.
_base_ = ['../akm_synthetic.py']

model = dict(
    backbone=dict(pretrained='work_dirs/frameresnet_stills4/backbone.pth'))
