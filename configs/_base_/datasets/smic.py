# SMIC-HS with the paper recipe pipelines (me_pipelines.py). SMIC has no
# annotation file (class in the path); 'paper4' gives its 3 classes
# positive / negative / surprise. The corpus is licensed: put it, as shipped,
# under data_root (default <repo>/data/smic) or pass --cfg-options.
_base_ = ['./me_pipelines.py']

data_root = '{{ fileDirname }}/../../../data/smic'
corpus = dict(
    type='SMICDataset', data_root=data_root, subset='HS',
    class_setup='paper4')
train_dataloader = dict(dataset=corpus)
test_dataloader = dict(dataset=corpus)
