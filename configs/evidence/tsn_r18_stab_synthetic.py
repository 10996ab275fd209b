# TSN-R18 on the synthetic corpus stabilised to each clip's onset (face box +
# ECC, frame cache); MEMagnify (linear, alpha 5) online as in the TSN-R18 row.
# The 2x2 design: docs/evidence.md.
_base_ = [
    '../baselines/tsn_r18_synthetic.py',
    '../_base_/datasets/synthetic_preprocessed.py'
]

preprocess = {{_base_.frame_caches.stab.preprocess}}
train_dataloader = dict(
    dataset=dict(cache_dir={{_base_.frame_caches.stab.cache_dir}}))
test_dataloader = dict(
    dataset=dict(cache_dir={{_base_.frame_caches.stab.cache_dir}}))
