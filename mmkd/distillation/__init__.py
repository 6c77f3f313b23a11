from .distiller import FeatureDistiller
from .losses import *  # noqa: F401,F403
from .recorder import FeatureRecorder, parse_source

__all__ = ['FeatureDistiller', 'FeatureRecorder', 'parse_source']
