# AKMNet on the synthetic corpus stabilised to each clip's onset (face box +
# ECC), then phase-magnified (alpha 5 as the linear rows, otherwise the paper
# recipe) instead of MEMagnify (frame cache). The 2x2 design:
# docs/evidence.md.
_base_ = [
    '../akm_synthetic.py',
    '../_base_/datasets/synthetic_preprocessed.py'
]

preprocess = {{_base_.frame_caches.stab_phase.preprocess}}
train_dataloader = dict(
    dataset=dict(
        cache_dir={{_base_.frame_caches.stab_phase.cache_dir}},
        pipeline={{_base_.phase_pipelines.akm.train}}))
test_dataloader = dict(
    dataset=dict(
        cache_dir={{_base_.frame_caches.stab_phase.cache_dir}},
        pipeline={{_base_.phase_pipelines.akm.test}}))
