from .loading import MEFrameDecode, METoGray
from .sampling import MESampleFrames

__all__ = ['MESampleFrames', 'MEFrameDecode', 'METoGray']
