# The paper's input (AKMNet training recipe), made once, offline, by
#   python tools/preprocess.py configs/akm_<corpus>.py
# and trained on by the paper configs (OUT_DIR defaults to cache_dir; one
# cache serves every corpus and the MEGC2019 composite).
#
# face: one similarity transform per clip from the onset's landmarks (eye
#   line horizontal, fixed inter-ocular distance, face centred with `margin`
#   of the face height around it), 144 px = the paper's pre-crop size;
#   detector='box' = OpenCV Haar box, no rotation.
# stabilise: None, or dict(type='ecc') to register every frame rigidly to
#   the onset (removes head motion).
# magnify: phase-based video magnification, alpha = 15 as in the paper
#   (mmakm.preprocessing.magnify_clip): each frame's local phase change from
#   the onset (reference=0) is amplified, a displacement d becomes
#   (1 + alpha) * d; band=(low_hz, high_hz) adds a temporal band-pass of the
#   phase; type='linear' is the cheap Eulerian option; None: off.
cache_dir = '{{ fileDirname }}/../../data/cache/paper'
preprocess = dict(
    face=dict(size=144, margin=0.1, ref_frames=1, detector='landmarks'),
    stabilise=None,
    magnify=dict(
        type='phase',
        alpha=15.0,
        levels='auto',
        orientations=4,
        sigma=2.0,
        reference=0,
        band=None,
        luma_only=True))
