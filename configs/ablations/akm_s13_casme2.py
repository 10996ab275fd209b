# Ablation s13 (paper): local attention + sparse selection, no global
# correlation (step 2): the attention alpha itself is thresholded.
_base_ = ['../akm_casme2.py']

model = dict(neck=dict(use_global_correlation=False))
