# Macro-expression pretraining on FER2013 (48x48 grayscale, upsampled),
# 4 classes; writes work_dirs/frameresnet_fer2013_4/backbone.pth.
_base_ = ['./frameresnet_affectnet4.py']

data_root = 'data/fer2013'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='FER2013Dataset',
        data_root=data_root,
        ann_file='fer2013.csv',
        usage=['Training'],
        class_setup='paper4',
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='FER2013Dataset',
        data_root=data_root,
        ann_file='fer2013.csv',
        usage=['PublicTest'],
        class_setup='paper4',
        pipeline={{_base_.test_pipeline}},
        test_mode=True))
test_dataloader = val_dataloader
