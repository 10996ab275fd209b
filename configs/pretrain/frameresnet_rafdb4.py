# Macro-expression pretraining on RAF-DB basic (aligned faces), 4 classes;
# writes work_dirs/frameresnet_rafdb4/backbone.pth.
_base_ = ['./frameresnet_affectnet4.py']

data_root = 'data/rafdb'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RAFDBDataset',
        data_root=data_root,
        split='train',
        class_setup='paper4',
        per_class=None,
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RAFDBDataset',
        data_root=data_root,
        split='test',
        class_setup='paper4',
        pipeline={{_base_.test_pipeline}},
        test_mode=True))
test_dataloader = val_dataloader
