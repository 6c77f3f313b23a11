from .fixed_threshold import FixedThreshold

__all__ = ['FixedThreshold']
