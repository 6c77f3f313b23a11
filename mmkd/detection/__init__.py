from .box_jitter import jitter_boxes, jitter_uncertainty
from .mean_teacher import MeanTeacherDetector
from .semi_detector import TeacherStudentDetector
from .soft_teacher import SoftTeacher, soft_teacher_cls_loss

__all__ = ['MeanTeacherDetector', 'SoftTeacher', 'TeacherStudentDetector',
           'soft_teacher_cls_loss', 'jitter_boxes', 'jitter_uncertainty']
