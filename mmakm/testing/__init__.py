"""Reference implementations the test suite pins mmakm to.

``OfficialAKMNet`` computes what the authors' AKMNet code computes, one clip
at a time; ``copy_to_akmnet`` loads its weights into mmakm's AKMNet built
from ``official_akmnet_cfg()``.
"""
from mmakm.models.official import official_akmnet_cfg
from .official_akmnet import OfficialAKMNet, OfficialOutput, copy_to_akmnet

__all__ = ['OfficialAKMNet', 'OfficialOutput', 'copy_to_akmnet',
           'official_akmnet_cfg']
