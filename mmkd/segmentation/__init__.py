from .dual_consensus import (
                             class_map_agreement,
                             confident_class_map,
                             consensus_labels,
)
from .dual_mean_teacher import DualMeanTeacherSegmentor
from .pseudo_label_statistics import MapPseudoLabelStatistics
from .semi_segmentor import SemiSegmentor, weighted_pixel_ce

__all__ = [
    'SemiSegmentor', 'weighted_pixel_ce', 'DualMeanTeacherSegmentor',
    'MapPseudoLabelStatistics',
    'class_map_agreement', 'confident_class_map', 'consensus_labels'
]
