# Random key frames: per clip as many frames as the threshold of eq 8 keeps,
# chosen uniformly at random instead of by beta (seeded by the run's seed,
# --seed). Nothing about frames is learnt: no attention layer, B is a
# constant, no L_GS / L_MMM.
_base_ = ['../akm_casme2.py']

model = dict(neck=dict(selection='random'), loss_aux=None)
