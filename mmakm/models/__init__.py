"""AKMNet model components, registered in ``mmaction.registry.MODELS``."""
from .backbones import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .recognizers import *  # noqa: F401,F403
from .backbones import __all__ as _b
from .data_preprocessors import __all__ as _d
from .heads import __all__ as _h
from .losses import __all__ as _l
from .necks import __all__ as _n
from .recognizers import __all__ as _r

__all__ = _b + _d + _h + _l + _n + _r
