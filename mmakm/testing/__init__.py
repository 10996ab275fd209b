"""Reference implementations the test suite pins mmakm to."""
from .official_akmnet import OfficialAKMNet, OfficialOutput, copy_to_akmnet

__all__ = ['OfficialAKMNet', 'OfficialOutput', 'copy_to_akmnet']
