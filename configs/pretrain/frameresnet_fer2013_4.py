# Macro-expression pretraining on FER2013 (48x48 grayscale, upsampled),
# 4 classes; writes work_dirs/frameresnet_fer2013_4/backbone.pth.
_base_ = ['./frameresnet_affectnet4.py']

fer2013 = dict(
    type='FER2013Dataset',
    data_root='data/fer2013',
    ann_file='fer2013.csv',
    class_setup='paper4')
train_dataloader = dict(
    dataset=dict(
        fer2013, _delete_=True, usage=['Training'],
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        fer2013, _delete_=True, usage=['PublicTest'],
        pipeline={{_base_.test_pipeline}}, test_mode=True))
test_dataloader = val_dataloader
