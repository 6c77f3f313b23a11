from .batch_stats import batch_norm_statistics
from .ema import EMATeacherHook, ema_update
from .model import TeacherStudentModel, current_iter
from .pseudo_label import FixedThreshold
from .ramps import sigmoid_rampup

__all__ = [
    'batch_norm_statistics', 'EMATeacherHook', 'ema_update',
    'TeacherStudentModel', 'current_iter', 'FixedThreshold', 'sigmoid_rampup'
]
