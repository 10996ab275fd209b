# Ablation s12 (paper): steps 1+2 of key-frame mining, no sparse selection
# (step 3): every frame is kept, weighted features unchanged.
_base_ = ['../akm_casme2.py']

model = dict(neck=dict(use_sparse_selection=False))
