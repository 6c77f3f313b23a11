from .hooks import *  # noqa: F401,F403
from .loops import IterBasedTrainLoop

__all__ = ['IterBasedTrainLoop']
