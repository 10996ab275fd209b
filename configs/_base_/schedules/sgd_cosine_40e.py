# AKMNet paper recipe: SGD lr 1e-3, momentum 0.9, weight decay 5e-4, cosine
# annealing to 1e-8 over 40 epochs, 8 clips a batch.
max_epochs = 40
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4),
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

# lr scales with the total batch (GPUs x clips per GPU) with --auto-scale-lr
auto_scale_lr = dict(enable=False, base_batch_size=8)
