# AKMNet paper recipe on CASME I, 4 classes (positive / negative / surprise / others).
# LOSO: tools/loso.py runs one fold per subject with this config; a single
# run of tools/train.py trains on every subject of the corpus.
_base_ = [
    './_base_/models/akmnet_r18.py', './_base_/datasets/casme1.py',
    './_base_/schedules/sgd_cosine_40e.py', './_base_/default_runtime.py',
    './_base_/preprocess_paper.py'
]

model = dict(cls_head=dict(num_classes=4))

# Trains on the preprocessed cache (aligned faces, alpha = 15 magnification);
# make it with: python tools/preprocess.py configs/akm_casme1.py
# (cache_dir=None reads the shipped frames instead).
train_dataloader = dict(dataset=dict(cache_dir={{_base_.cache_dir}}))
test_dataloader = dict(dataset=dict(cache_dir={{_base_.cache_dir}}))
