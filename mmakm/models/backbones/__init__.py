from .frame_resnet import FrameResNet

__all__ = ['FrameResNet']
