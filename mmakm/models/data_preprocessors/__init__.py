from .me_data_preprocessor import MEDataPreprocessor, clip_lengths

__all__ = ['MEDataPreprocessor', 'clip_lengths']
