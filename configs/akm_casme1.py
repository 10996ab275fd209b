# AKMNet paper recipe on CASME I, 4 classes (positive / negative / surprise / others).
# LOSO: tools/loso.py runs one fold per subject with this config; a single
# run of tools/train.py trains on every subject of the corpus.
_base_ = [
    './_base_/models/akmnet_r18.py', './_base_/datasets/casme1.py',
    './_base_/schedules/sgd_cosine_40e.py', './_base_/default_runtime.py'
]

model = dict(cls_head=dict(num_classes=4))
