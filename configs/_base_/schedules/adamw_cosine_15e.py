# Short from-scratch schedule for the built-in synthetic corpus on a CPU:
# AdamW lr 1e-3 (the paper's SGD 1e-3 -- and 1e-2..5e-2 -- did not move the
# loss of a from-scratch network within the demo's budget), cosine to 1e-8
# over 15 epochs (105 iterations on 7 training subjects x 8 clips, batch 8):
# the budget that lets the evidence suite (docs/evidence.md: 11 methods,
# 17 LOSO runs of 8 folds) run on a shared 2-core CPU.
max_epochs = 15
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
    clip_grad=None)

param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=1e-8,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True)
]

auto_scale_lr = dict(enable=False, base_batch_size=8)
