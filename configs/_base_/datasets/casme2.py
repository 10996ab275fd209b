# CASME II with the paper recipe pipelines (me_pipelines.py), 4 classes.
# The corpus is licensed: put it, as shipped, under data_root (default
# <repo>/data/casme2) or pass --cfg-options to point elsewhere.
_base_ = ['./me_pipelines.py']

data_root = '{{ fileDirname }}/../../../data/casme2'
corpus = dict(
    type='CASME2Dataset',
    data_root=data_root,
    ann_file='CASME2-coding-20140508.xlsx',
    release='raw',
    class_setup='paper4')
train_dataloader = dict(dataset=corpus)
test_dataloader = dict(dataset=corpus)
