# Random key frames: as many frames as mining would keep, chosen uniformly at
# random (seeded) instead of by beta.
_base_ = ['../akm_casme2.py']

model = dict(neck=dict(selection='random', seed=0))
