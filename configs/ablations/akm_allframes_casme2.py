# "Same net, all frames, no mining" (paper Table): every frame onset..offset
# goes to the bi-GRU head; no selection, no L_GS / L_MMM.
_base_ = ['../akm_casme2.py']

model = dict(neck=dict(use_sparse_selection=False), loss_aux=None)
