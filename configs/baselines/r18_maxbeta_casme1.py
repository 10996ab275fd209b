# Single max-beta key frame, ResNet-18 (paper Table VII) on CASME I: per clip, the
# key frame with the highest beta of the same LOSO fold's AKMNet, through
# AKMNet's ResNet-18 backbone; same crops, classes, sampler and schedule as
# configs/akm_casme1.py, same clips as r18_apex_casme1.py. Run under tools/loso.py
# after
#   python tools/loso.py configs/akm_casme1.py
#   python tools/misc/dump_fold_keyframes.py work_dirs/loso/akm_casme1
# (that fold's AKMNet over every clip: {fold} in the path is filled per fold).
_base_ = ['./r18_apex_casme1.py']

train_dataloader = dict(
    dataset=dict(pipeline={{_base_.max_beta_train_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.max_beta_test_pipeline}}))
