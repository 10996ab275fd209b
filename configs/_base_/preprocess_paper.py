# The paper's input (AKMNet training recipe): faces detected and aligned
# (one similarity transform per clip from the onset: eye line horizontal,
# fixed inter-ocular distance, face centred, 144 px = the pre-crop size),
# phase-based motion magnification with alpha = 15, offline. The paper
# configs train on this cache; make it once per corpus with
#   python tools/preprocess.py configs/akm_<corpus>.py
# (OUT_DIR defaults to cache_dir; one cache serves every corpus and the
# MEGC2019 composite).
cache_dir = '{{ fileDirname }}/../../data/cache/paper'
preprocess = dict(
    face=dict(size=144, margin=0.1, ref_frames=1, detector='landmarks'),
    stabilise=None,  # dict(type='ecc'): per-frame rigid stabilisation
    magnify=dict(type='phase', alpha=15))
