from .pseudo_label_stats_hook import PseudoLabelStatsHook
from .rng_state_hook import RNGStateHook

__all__ = ['PseudoLabelStatsHook', 'RNGStateHook']
