import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import MODELS

from .masked_feature import dice_diversity, float32_diff2, masked_mse


@MODELS.register_module()
class MasKDLoss(nn.Module):
    """MasKD-style distillation (Huang et al., "Masked Distillation with
    Receptive Tokens", ICLR 2023) -- the baseline ACAM-KD improves on: M
    spatial masks computed from the *teacher's* features only,
    ``M^s = σ(m_s · flatten(F_T))``, and the mask-weighted imitation
    ``α · masked_mse`` (normalised by C) plus the Dice diversity of the
    masks.

    Deviation, stated: MasKD first learns its receptive tokens on the frozen
    teacher with the teacher's task loss; here the tokens are learned during
    distillation from the diversity loss only (the imitation term does not
    move the masks, so they cannot drift to where imitation is easy).
    """

    def __init__(self, student_channels, teacher_channels, num_masks=6,
                 alpha=1.0, lambda_div=1.0, mask_power=1, loss_weight=1.0):
        super().__init__()
        self.student_channels = student_channels
        self.teacher_channels = teacher_channels
        self.align = nn.Conv2d(student_channels, teacher_channels, 1)
        self.tokens = nn.Parameter(
            torch.randn(num_masks, teacher_channels) / teacher_channels**0.5)
        self.alpha = alpha
        self.lambda_div = lambda_div
        self.mask_power = mask_power
        self.loss_weight = loss_weight
        self.last_masks = None

    def forward(self, student, teacher):
        if student.shape[2:] != teacher.shape[2:]:
            student = F.interpolate(student, teacher.shape[2:],
                                    mode='bilinear', align_corners=False)
        teacher = teacher.detach()
        b, c, h, w = teacher.shape
        masks = torch.sigmoid(torch.einsum('mc,bcp->bmp', self.tokens,
                                           teacher.flatten(2)))
        self.last_masks = masks.detach().view(b, -1, h, w)
        diff2 = float32_diff2(teacher, self.align(student))
        loss = masked_mse(diff2, masks.detach(), norm=c,
                          mask_power=self.mask_power)
        k = self.loss_weight
        return dict(loss_masked=k * self.alpha * loss,
                    loss_div=k * self.lambda_div * dice_diversity(masks))
