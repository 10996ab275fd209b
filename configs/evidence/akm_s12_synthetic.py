# Ablation s12 on the synthetic corpus: alpha and beta, every frame weighted
# by its beta, nothing selected, no GS-MMM loss (as configs/ablations/).
_base_ = ['../akm_synthetic.py']

model = dict(neck=dict(selection='soft'), loss_aux=None)
