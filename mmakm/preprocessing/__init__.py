"""From a corpus as shipped to the network's input: face landmarks and
alignment, rigid stabilisation, motion magnification and the frame cache
(``tools/preprocess.py``)."""
from .cache import (CacheMissError, is_cached, load_frames, lookup,
                    preprocess_command, read_index, write_clip)
from .clip import FACE_DEFAULTS, STABILISE_DEFAULTS, preprocess_clip
from .face import (FaceLandmarker, FaceLostError, NoFaceError, cascade_path,
                   clip_alignment, detect_face_box, eye_centres,
                   load_cascade, similarity_from_eyes, warp_clip)
from .magnification import linear_magnify, magnify_clip, phase_magnify
from .stabilise import (RigidFit, compose_with_alignment,
                        estimate_rigid_warps, fit_rigid_warps,
                        warp_displacement_px)

__all__ = [
    'CacheMissError', 'is_cached', 'load_frames', 'lookup',
    'preprocess_command', 'read_index', 'write_clip', 'FACE_DEFAULTS',
    'STABILISE_DEFAULTS', 'preprocess_clip', 'FaceLandmarker', 'NoFaceError',
    'FaceLostError', 'fit_rigid_warps', 'RigidFit',
    'cascade_path', 'clip_alignment', 'detect_face_box', 'eye_centres',
    'load_cascade', 'similarity_from_eyes', 'warp_clip',
    'compose_with_alignment', 'estimate_rigid_warps', 'warp_displacement_px',
    'phase_magnify', 'linear_magnify', 'magnify_clip'
]
