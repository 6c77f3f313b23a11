from .base import PseudoLabeller
from .dynamic_dual_threshold import DynamicDualThreshold, two_means_1d
from .fixed_threshold import FixedThreshold

__all__ = [
    'DynamicDualThreshold', 'FixedThreshold', 'PseudoLabeller',
    'two_means_1d'
]
