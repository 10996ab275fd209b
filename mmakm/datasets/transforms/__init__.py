from .face_align import MEFaceAlign
from .loading import MEFrameDecode, METoGray
from .magnify import MEMagnify
from .sampling import MESampleFrames

__all__ = ['MESampleFrames', 'MEFrameDecode', 'METoGray', 'MEMagnify',
           'MEFaceAlign']
