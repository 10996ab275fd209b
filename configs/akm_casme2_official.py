# configs/akm_casme2.py with AKMNet as the authors' code runs it (grayscale
# input, 5x5 stem, '>=' threshold, their gradient rule): the model of
# checkpoints converted with tools/misc/convert_official_ckpt.py, e.g.
#   python tools/test.py configs/akm_casme2_official.py akm_official.pth
# (configs/_base_/models/akmnet_r18_official.py cannot be listed as a second
# base of akm_casme2.py: both define `model`.)
_base_ = [
    './_base_/models/akmnet_r18_official.py', './_base_/datasets/casme2.py',
    './_base_/schedules/sgd_cosine_40e.py', './_base_/default_runtime.py',
    './_base_/preprocess_paper.py'
]

model = dict(cls_head=dict(num_classes=4))

train_dataloader = dict(dataset=dict(cache_dir={{_base_.cache_dir}}))
test_dataloader = dict(dataset=dict(cache_dir={{_base_.cache_dir}}))
