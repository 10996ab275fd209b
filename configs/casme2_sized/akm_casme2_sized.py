# AKMNet, paper recipe sizes, on the synthetic CASME II-sized corpus held in
# device memory: a LOSO timing run (26 folds x 40 epochs) in one command,
#   python tools/loso.py configs/casme2_sized/akm_casme2_sized.py --jobs N
# 255 clips of 26 subjects, 24-141 frames (median ~61), drawn on the device
# at 144 px (~1 GB of uint8 for the 16.5 k frames); full ResNet-18, random
# 128 crop + flip per clip for training, 144 -> 128 resize for testing,
# 8 clips a batch, SGD + cosine over 40 epochs (see the _base_ files).
# An epoch feeds every training clip once (DefaultSampler, ~16 k frames);
# the paper's class-balanced oversampling (sampler=ClassBalancedSampler)
# makes an epoch ~1.9x longer. The pixels are synthetic: for timing only.
_base_ = [
    '../_base_/models/akmnet_r18.py', '../_base_/schedules/sgd_cosine_40e.py',
    '../_base_/default_runtime.py'
]

# corpus spec shared by the dataset wrappers and the preprocessor
# (mmakm/datasets/device_corpus.py); the plan's keyword arguments are
# mmakm.datasets.casme2_sized_plan's.
plan = dict(seed=0)
corpus = dict(type='casme2_sized', size=144, **plan)
crop_size = 128
class_setup = 'paper4'

model = dict(
    data_preprocessor=dict(
        type='MEDeviceCorpusPreprocessor',
        corpus=corpus,
        crop_size=crop_size,
        flip_ratio=0.5,
        test_crop='resize'))

# the loaders hand out clip indices only: no worker is needed
sized_dataset = dict(
    type='DeviceCorpusDataset',
    corpus=corpus,
    crop_size=crop_size,
    dataset=dict(type='CASME2SizedDataset', plan=plan, class_setup=class_setup))
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=sized_dataset)
test_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        sized_dataset,
        dataset=dict(sized_dataset['dataset'], test_mode=True)))
test_evaluator = [dict(type='MEMetric'), dict(type='KeyFrameApexMetric')]

# a checkpoint every 10 epochs (and the last): resumable without writing
# 40 checkpoints per fold
default_hooks = dict(checkpoint=dict(interval=10))
