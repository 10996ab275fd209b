from .key_frame_mining import (KeyFrameMining, KeyFrameOutput,
                               threshold_select)

__all__ = ['KeyFrameMining', 'KeyFrameOutput', 'threshold_select']
