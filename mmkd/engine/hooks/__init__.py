from .distill_weight_hook import DistillWeightHook
from .mask_visualization_hook import DistillMaskVisualizationHook
from .nonfinite_loss_hook import NonFiniteLossHook
from .pseudo_label_stats_hook import PseudoLabelStatsHook
from .pseudo_threshold_hook import PseudoThresholdHook
from .rng_state_hook import RNGStateHook

__all__ = [
    'DistillMaskVisualizationHook', 'DistillWeightHook', 'NonFiniteLossHook',
    'PseudoLabelStatsHook', 'PseudoThresholdHook', 'RNGStateHook'
]
