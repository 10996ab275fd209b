# Ablation s23 (paper): global correlation + sparse selection, no local
# attention (step 1): alpha == 1.
_base_ = ['../akm_casme2.py']

model = dict(neck=dict(use_local_attention=False))
