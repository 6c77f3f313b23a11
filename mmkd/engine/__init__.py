from .hooks import *  # noqa: F401,F403
from .loops import IterBasedTrainLoop, MemberValLoop, predicting_with
from .member_optim import MemberOptimWrapperConstructor

__all__ = [
    'IterBasedTrainLoop', 'MemberValLoop', 'predicting_with',
    'MemberOptimWrapperConstructor'
]
