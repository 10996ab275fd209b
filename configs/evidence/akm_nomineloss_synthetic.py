# AKMNet without the mining losses on the synthetic corpus: steps 1-3 and the
# hard selection unchanged, trained by the classification loss alone (no
# L_GS / L_MMM). Not a paper row: it isolates what the class-agnostic mining
# losses do to beta (docs/evidence.md, experiment E7).
_base_ = ['../akm_synthetic.py']

model = dict(loss_aux=None)
