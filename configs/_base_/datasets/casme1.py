# CASME I with the paper recipe pipelines (me_pipelines.py), 4 classes.
# The corpus is licensed: put it, as shipped, under data_root (default
# <repo>/data/casme1) or pass --cfg-options to point elsewhere.
_base_ = ['./me_pipelines.py']

data_root = '{{ fileDirname }}/../../../data/casme1'
# one coding xlsx per section; set these to the file/folder names of
# your copy (paths relative to data_root)
sections = [
    dict(ann_file='CASME_A_Section/CASME_A_Section.xlsx',
         img='CASME_A_Section'),
    dict(ann_file='CASME_B_Section/CASME_B_Section.xlsx',
         img='CASME_B_Section'),
]
corpus = dict(
    type='CASME1Dataset',
    data_root=data_root,
    sections=sections,
    class_setup='paper4')
train_dataloader = dict(dataset=corpus)
test_dataloader = dict(dataset=corpus)
