# AKMNet on the synthetic corpus with BatchNorm over each clip, as the
# authors' code trains: forward + backward one clip at a time, gradients
# accumulated over the batch, one optimiser step (micro-batches of one clip).
_base_ = ['../akm_synthetic.py']

model = dict(train_cfg=dict(micro_batch_frames=1))
