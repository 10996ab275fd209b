from .akmnet import AKMNet

__all__ = ['AKMNet']
