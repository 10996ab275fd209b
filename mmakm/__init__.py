"""mmakm: micro-expression recognition with AKMNet for MMAction2.

Importing the package mends the dependency stack (see :mod:`mmakm.compat`)
and registers every mmakm component in MMAction2's registries, so configs
with ``default_scope='mmaction'`` can mix mmakm and MMAction2 parts.
"""
from . import compat

compat.apply()

from . import datasets, evaluation, models  # noqa: E402,F401  (registration)
from . import engine  # noqa: E402,F401  (atomic checkpoint/dump hooks)
from .version import __version__  # noqa: E402

__all__ = ['__version__']
