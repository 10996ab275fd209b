# SAMM with the paper recipe pipelines (me_pipelines.py), 4 classes.
# The corpus is licensed: put it, as shipped, under data_root (default
# <repo>/data/samm) or pass --cfg-options to point elsewhere.
_base_ = ['./me_pipelines.py']

data_root = '{{ fileDirname }}/../../../data/samm'
corpus = dict(
    type='SAMMDataset',
    data_root=data_root,
    ann_file='SAMM_Micro_FACS_Codes_v2.xlsx',
    sheet='MICRO_ONLY',
    class_setup='paper4')
train_dataloader = dict(dataset=corpus)
test_dataloader = dict(dataset=corpus)
