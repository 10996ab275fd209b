# CASME I: paper recipe data pipeline (all frames onset..offset, resize 144
# -> random crop 128 + flip for training; resize 128 -> centre crop 128 for
# testing), class-balanced sampling, 8 clips a batch.
# The corpus is licensed: put it, as shipped, under data_root (default
# <repo>/data/casme1) or pass --cfg-options to point elsewhere.
dataset_type = 'CASME1Dataset'
data_root = '{{ fileDirname }}/../../../data/casme1'
class_setup = 'paper4'
# one coding xlsx per section; set these to the file/folder names of
# your copy (paths relative to data_root)
sections = [
    dict(ann_file='CASME_A_Section/CASME_A_Section.xlsx',
         img='CASME_A_Section'),
    dict(ann_file='CASME_B_Section/CASME_B_Section.xlsx',
         img='CASME_B_Section'),
]

# ActionDataSample metainfo read by MEMetric / KeyFrameApexMetric
# (== mmakm.datasets.ME_META_KEYS)
me_meta_keys = ('subject', 'corpus', 'clip_id', 'onset', 'apex', 'offset',
                'emotion', 'fps', 'frame_numbers_fed', 'img_shape')

train_pipeline = [
    dict(type='MESampleFrames'),  # every frame onset..offset
    dict(type='MEFrameDecode'),
    dict(type='Resize', scale=(-1, 144)),
    dict(type='RandomCrop', size=128),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs', meta_keys=me_meta_keys)
]
test_pipeline = [
    dict(type='MESampleFrames', test_mode=True),
    dict(type='MEFrameDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=128),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs', meta_keys=me_meta_keys)
]

# variable-length clips: the default collate (pseudo_collate) keeps a list of
# (T_i, C, H, W) tensors, MEDataPreprocessor packs them without padding.
# persistent_workers=False: every epoch's workers are seeded afresh, which
# keeps a resumed run identical to an uninterrupted one.
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='ClassBalancedSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        sections=sections,
        class_setup=class_setup,
        pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        sections=sections,
        class_setup=class_setup,
        pipeline=test_pipeline,
        test_mode=True))

test_evaluator = [dict(type='MEMetric'), dict(type='KeyFrameApexMetric')]
