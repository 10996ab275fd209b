# "Same net, all frames, no mining" (paper Table): every frame onset..offset
# goes to the bi-GRU head unweighted (B = 1, a constant); no attention layer,
# no L_GS / L_MMM.
_base_ = ['../akm_casme2.py']

model = dict(neck=dict(selection='all'), loss_aux=None)
