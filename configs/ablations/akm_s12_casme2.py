# Ablation s12 (paper): steps 1+2 of key-frame mining without sparse selection
# (step 3): every frame is kept and weighted by its beta (F * beta, soft,
# nothing binarised); alpha and beta learn from the classification loss only,
# so no L_GS / L_MMM (they need a hard selection).
_base_ = ['../akm_casme2.py']

model = dict(neck=dict(selection='soft'), loss_aux=None)
