# Random key frames on the synthetic corpus: as many frames as eq 8 keeps,
# chosen at random, nothing about frames learnt, no GS-MMM loss.
_base_ = ['../akm_synthetic.py']

model = dict(neck=dict(selection='random', seed=0), loss_aux=None)
