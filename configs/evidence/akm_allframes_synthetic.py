# "Same net, all frames, no mining" on the synthetic corpus: every fed frame
# goes to the bi-GRU head unweighted (as configs/ablations/akm_allframes_*).
_base_ = ['../akm_synthetic.py']

model = dict(neck=dict(selection='all'), loss_aux=None)
