import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import MODELS


@MODELS.register_module()
class ChannelWiseDivergence(nn.Module):
    """Channel-wise distillation (Shu et al., "Channel-wise Knowledge
    Distillation for Dense Prediction", ICCV 2021): each channel is a
    distribution over positions, ``φ(x_c) = softmax(x_c / τ)``, and::

        L = τ² / (B·C) · Σ_{b,c} KL(φ(T_{b,c}) ‖ φ(S_{b,c}))

    on logits (segmentation: ``decode_head.conv_seg``, τ = 4) or features
    (with a 1×1 align conv when the channels differ)."""

    def __init__(self, student_channels, teacher_channels, tau=4.0,
                 loss_weight=1.0):
        super().__init__()
        self.student_channels = student_channels
        self.teacher_channels = teacher_channels
        self.align = (nn.Identity() if student_channels == teacher_channels
                      else nn.Conv2d(student_channels, teacher_channels, 1))
        self.tau = tau
        self.loss_weight = loss_weight

    def forward(self, student, teacher):
        if student.shape[2:] != teacher.shape[2:]:
            student = F.interpolate(student, teacher.shape[2:],
                                    mode='bilinear', align_corners=False)
        s = self.align(student).flatten(2)
        t = teacher.detach().flatten(2)
        # softmax over every position and a sum over B·C·HW: float32 under
        # --amp (float16 overflows past 65 504)
        with torch.autocast(s.device.type, enabled=False):
            s, t = s.float() / self.tau, t.float() / self.tau
            b, c, _ = t.shape
            p_t = t.softmax(dim=-1)
            kl = (p_t * (t.log_softmax(dim=-1) -
                         s.log_softmax(dim=-1))).sum()
        return dict(loss_cwd=self.loss_weight * self.tau**2 * kl / (b * c))
