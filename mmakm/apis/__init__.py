"""Inference on a single clip (video file or frame folder) with face crop."""
from .face import crop_frames, detect_face_box
from .inference import Clip, infer_clip, init_model, read_clip

__all__ = ['Clip', 'read_clip', 'detect_face_box', 'crop_frames',
           'init_model', 'infer_clip']
