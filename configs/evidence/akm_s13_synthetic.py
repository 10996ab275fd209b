# Ablation s13 on the synthetic corpus: no global correlation (beta = alpha).
_base_ = ['../akm_synthetic.py']

model = dict(neck=dict(use_global_correlation=False))
