from .pixel_bigru_head import PixelBiGRUHead

__all__ = ['PixelBiGRUHead']
