# AKMNet's key-frame mining neck and pixel bi-GRU head on MMAction2's own 2D
# ResNet-18 backbone (mmaction.models.ResNet), CASME II paper recipe.
_base_ = ['../akm_casme2.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=18,
        pretrained=None,  # e.g. 'torchvision://resnet18' where reachable
        norm_eval=False))
