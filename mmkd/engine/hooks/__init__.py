from .distill_weight_hook import DistillWeightHook
from .mask_visualization_hook import DistillMaskVisualizationHook
from .pseudo_label_stats_hook import PseudoLabelStatsHook
from .pseudo_threshold_hook import PseudoThresholdHook
from .rng_state_hook import RNGStateHook

__all__ = [
    'DistillMaskVisualizationHook', 'DistillWeightHook',
    'PseudoLabelStatsHook', 'PseudoThresholdHook', 'RNGStateHook'
]
