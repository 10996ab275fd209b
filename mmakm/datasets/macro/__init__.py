"""Macro-expression still-image corpora (backbone pretraining)."""
from .affectnet import AffectNetDataset
from .base import FaceImageDataset
from .fer2013 import FER2013Dataset
from .rafdb import RAFDBDataset

__all__ = ['FaceImageDataset', 'AffectNetDataset', 'RAFDBDataset',
           'FER2013Dataset']
