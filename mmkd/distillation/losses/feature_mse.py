import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import MODELS


@MODELS.register_module()
class FeatureMSELoss(nn.Module):
    """FitNet-style feature imitation (Romero et al., ICLR 2015):
    ``loss_weight · mean((F_T − f_align(F_S))²)`` with a 1×1 conv align
    (identity when the channels agree and ``align=False``)."""

    def __init__(self, student_channels, teacher_channels, align=True,
                 loss_weight=1.0):
        super().__init__()
        self.student_channels = student_channels
        self.teacher_channels = teacher_channels
        if align or student_channels != teacher_channels:
            self.align = nn.Conv2d(student_channels, teacher_channels, 1)
        else:
            self.align = nn.Identity()
        self.loss_weight = loss_weight

    def forward(self, student, teacher):
        if student.shape[2:] != teacher.shape[2:]:
            student = F.interpolate(student, teacher.shape[2:],
                                    mode='bilinear', align_corners=False)
        loss = F.mse_loss(self.align(student), teacher.detach())
        return dict(loss_mse=self.loss_weight * loss)
