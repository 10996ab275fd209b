from .device_corpus_preprocessor import MEDeviceCorpusPreprocessor
from .me_data_preprocessor import MEDataPreprocessor, clip_lengths

__all__ = ['MEDataPreprocessor', 'MEDeviceCorpusPreprocessor', 'clip_lengths']
