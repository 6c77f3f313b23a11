from .hooks import *  # noqa: F401,F403
from .loops import IterBasedTrainLoop, MemberValLoop, predicting_with

__all__ = ['IterBasedTrainLoop', 'MemberValLoop', 'predicting_with']
