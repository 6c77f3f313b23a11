from .batch_stats import batch_norm_statistics
from .ema import EMATeacherHook, ema_update
from .members import normalise_members
from .model import TeacherStudentModel, current_iter, weighted_losses
from .multi_branch import MultiBranchDataPreprocessor
from .pseudo_label import DynamicDualThreshold, FixedThreshold
from .ramps import sigmoid_rampup
from .views import cut_mix, project_boxes, view_to_view, warp_maps

__all__ = [
    'batch_norm_statistics', 'EMATeacherHook', 'ema_update',
    'normalise_members', 'TeacherStudentModel', 'current_iter',
    'weighted_losses', 'MultiBranchDataPreprocessor', 'DynamicDualThreshold',
    'FixedThreshold',
    'sigmoid_rampup', 'cut_mix',
    'project_boxes', 'view_to_view', 'warp_maps'
]
