# Runtime shared by every mmakm config (MMAction2 1.x conventions).
default_scope = 'mmaction'
# `mmakm` mends the stack and registers the models/datasets/metrics;
# `mmakm.engine` registers AtomicCheckpointHook and AtomicDumpResults.
custom_imports = dict(
    imports=['mmakm', 'mmakm.engine'], allow_failed_imports=False)

default_hooks = dict(
    # RuntimeInfoHook's numbers, read back from the device at the logging
    # interval only (one GPU sync per step less; mmakm/engine/hooks)
    runtime_info=dict(type='DeferredRuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # atomic writes (complete or absent), RNG states saved for an exact
    # resume; the newest checkpoint is written before older ones go
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1,
        save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPU; tools/*.py switch to gloo on CPU-only torch
    dist_cfg=dict(backend='nccl'))

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
# same seed, same numbers (--seed / --deterministic override)
randomness = dict(seed=0, deterministic=False, diff_rank_seed=False)

# Leak-free by default: no validation loop choosing checkpoints on the test
# subjects; the test uses the last checkpoint. A model-selection setup must
# set val_dataloader/val_cfg/val_evaluator on training-side subjects only.
val_dataloader = None
val_cfg = None
val_evaluator = None
