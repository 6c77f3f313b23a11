from .box_jitter import jitter_boxes, jitter_uncertainty
from .dual_consensus import box_set_agreement, consensus_boxes, match_boxes
from .dual_soft_teacher import DualSoftTeacher
from .mean_teacher import MeanTeacherDetector
from .pseudo_label_quality import BoxPseudoLabelStatistics
from .roi_extractor import SingleRoIExtractor
from .semi_detector import TeacherStudentDetector
from .soft_teacher import SoftTeacher, soft_teacher_cls_loss

__all__ = ['MeanTeacherDetector', 'SoftTeacher', 'TeacherStudentDetector',
           'soft_teacher_cls_loss', 'jitter_boxes', 'jitter_uncertainty',
           'DualSoftTeacher', 'box_set_agreement', 'consensus_boxes',
           'match_boxes', 'SingleRoIExtractor', 'BoxPseudoLabelStatistics']
