# Ablation s23 on the synthetic corpus: no local attention (alpha = 1).
_base_ = ['../akm_synthetic.py']

model = dict(neck=dict(use_local_attention=False))
