# Still facial-expression images (macro-expression pretraining of the
# per-frame backbone): each image becomes a one-frame clip (LoadFaceImage),
# with the ME recipe's sizes: resize 144 -> random crop 128 + flip for
# training, resize 128 for testing. AffectNet crops its annotated face box.


def _pipeline(train, size=128, pre_crop=144):
    # (not a config key: mmengine drops functions from configs)
    spatial = [
        dict(type='Resize', scale=(pre_crop, pre_crop), keep_ratio=False),
        dict(type='RandomCrop', size=size),
        dict(type='Flip', flip_ratio=0.5)
    ] if train else [
        dict(type='Resize', scale=(size, size), keep_ratio=False)
    ]
    return [dict(type='LoadFaceImage')] + spatial + [
        dict(type='FormatShape', input_format='NCHW'),
        dict(type='PackActionInputs', meta_keys=('emotion', 'corpus'))
    ]


train_pipeline = _pipeline(train=True)
test_pipeline = _pipeline(train=False)

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
