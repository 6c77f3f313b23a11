from .mean_teacher import MeanTeacherDetector

__all__ = ['MeanTeacherDetector']
