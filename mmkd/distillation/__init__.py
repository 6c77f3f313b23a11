from mmkd.teacher_student.feature_distillation import FeatureDistillation
from mmkd.teacher_student.feature_recorder import (
    FeatureRecorder,
    parse_source,
)

from .distiller import FeatureDistiller
from .losses import *  # noqa: F401,F403

__all__ = [
    'FeatureDistiller', 'FeatureDistillation', 'FeatureRecorder',
    'parse_source'
]
