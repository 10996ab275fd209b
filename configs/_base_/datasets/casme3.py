# CAS(ME)^3 part A with the paper recipe pipelines (me_pipelines.py),
# 4 classes. The corpus is licensed: put it, as shipped, under data_root
# (default <repo>/data/casme3) or pass --cfg-options to point elsewhere.
_base_ = ['./me_pipelines.py']

data_root = '{{ fileDirname }}/../../../data/casme3'
corpus = dict(
    type='CASME3Dataset',
    data_root=data_root,
    ann_file='cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx',
    modality_dir='color',
    class_setup='paper4')
train_dataloader = dict(dataset=corpus)
test_dataloader = dict(dataset=corpus)
