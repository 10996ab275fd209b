from .face_align import MEFaceAlign
from .face_image import LoadFaceImage
from .loading import MEFrameDecode, METoGray
from .magnify import MEMagnify, MEPhaseMagnify
from .sampling import MESampleFrames

__all__ = [
    'MESampleFrames', 'MEFrameDecode', 'METoGray', 'MEMagnify',
    'MEPhaseMagnify', 'LoadFaceImage', 'MEFaceAlign'
]
