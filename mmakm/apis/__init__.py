"""Inference on a single clip (video file or frame folder) with face crop."""
from .face import crop_frames, detect_face_box
from .frames import BadClipError, Clip, FrameSequence, read_clip
from .inference import infer_clip, init_model

__all__ = ['Clip', 'FrameSequence', 'BadClipError', 'read_clip',
           'detect_face_box', 'crop_frames', 'init_model', 'infer_clip']
