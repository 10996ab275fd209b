# MEGC2019 composite (CASME II + SAMM + SMIC-HS, 3 classes) with the paper
# recipe pipelines (me_pipelines.py). The corpora are licensed: put the
# official membership CSV under data_root (default <repo>/data/megc2019)
# and the three corpora, as shipped, beside it (or pass --cfg-options).
_base_ = ['./me_pipelines.py']

data_root = '{{ fileDirname }}/../../../data/megc2019'
source_root = '{{ fileDirname }}/../../../data'
corpus = dict(
    type='MEGC2019Dataset',
    data_root=data_root,
    # the official list: dataset, subject, filename, class
    ann_file='megc2019_composite.csv',
    casme2=dict(data_root=source_root + '/casme2'),
    samm=dict(data_root=source_root + '/samm'),
    smic=dict(data_root=source_root + '/smic', subset='HS'),
    class_setup='megc3')
train_dataloader = dict(dataset=corpus)
test_dataloader = dict(dataset=corpus)
