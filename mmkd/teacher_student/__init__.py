from .ema import EMATeacherHook, ema_update
from .model import TeacherStudentModel, current_iter
from .pseudo_label import FixedThreshold
from .ramps import sigmoid_rampup

__all__ = [
    'EMATeacherHook', 'ema_update', 'TeacherStudentModel', 'current_iter',
    'FixedThreshold', 'sigmoid_rampup'
]
