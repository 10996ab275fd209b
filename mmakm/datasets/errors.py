"""Errors of corpus input: annotation files, folder layout and frames.

Each message names the file (and row, where there is one) and says what was
expected. The tools (``tools/train.py``, ``tools/test.py``,
``tools/loso.py``) print them as the message alone, without a traceback
(:data:`mmakm.engine.USER_ERRORS`).
"""

__all__ = ['CorpusError', 'BadSampleError', 'MissingFileError',
           'PipelineError']


class CorpusError(ValueError):
    """Corpus input that cannot be read as the corpus ships it."""


class BadSampleError(CorpusError):
    """A sample that cannot be loaded as annotated."""


class MissingFileError(BadSampleError, FileNotFoundError):
    """A file or folder that the annotation or the layout needs is
    missing."""


class PipelineError(ValueError):
    """A dataset pipeline whose transforms cannot read ME samples (a
    config error, named by step; see
    :func:`mmakm.datasets.transforms.pipeline_check.check_me_pipeline`)."""
