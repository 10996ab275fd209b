"""Figures: key frames and β of a clip (:func:`plot_key_frames`)."""
from .keyframes import (apex_offset_histogram, plot_key_frames, savefig_atomic,
                        select_strip_positions)

__all__ = ['plot_key_frames', 'apex_offset_histogram', 'savefig_atomic',
           'select_strip_positions']
