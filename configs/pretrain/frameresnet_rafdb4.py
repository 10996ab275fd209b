# Macro-expression pretraining on RAF-DB basic (aligned faces), 4 classes;
# writes work_dirs/frameresnet_rafdb4/backbone.pth.
_base_ = ['./frameresnet_affectnet4.py']

rafdb = dict(type='RAFDBDataset', data_root='data/rafdb', class_setup='paper4')
train_dataloader = dict(
    dataset=dict(
        rafdb, _delete_=True, split='train',
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        rafdb, _delete_=True, split='test',
        pipeline={{_base_.test_pipeline}}, test_mode=True))
test_dataloader = val_dataloader
