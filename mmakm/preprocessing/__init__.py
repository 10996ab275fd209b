"""Offline preprocessing of micro-expression clips (magnification, ...)."""
from .magnification import linear_magnify, magnify_clip, phase_magnify

__all__ = ['phase_magnify', 'linear_magnify', 'magnify_clip']
