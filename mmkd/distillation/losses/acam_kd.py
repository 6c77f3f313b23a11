"""ACAM-KD: Adaptive and Cooperative Attention Masking for knowledge
distillation (Lan & Tian, ICCV 2025), per distilled feature pair.  The paper
has no public code; the formulas below follow its text and
``shared/specs/methods.md`` §5, with the decisions it leaves open as
arguments."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmkd.registry import MODELS

from .masked_feature import dice_diversity, float32_diff2, masked_mse


class STCAFusion(nn.Module):
    """Student–teacher cross-attention feature fusion (STCA-FF)::

        Q = W_q F_T,  K = W_k F_S',  V = W_v F_S'     (1×1 convs)
        F_fused = softmax(Qᵀ K / √C_q) · V            (over all positions)

    single head, teacher queries, ``C_q = C·qk_ratio``, V keeps C channels;
    computed with ``F.scaled_dot_product_attention``.  ``kv_stride > 1``
    average-pools the student features before K and V (a deviation from the
    paper, for large levels: attention costs HW × HW/stride²).
    """

    def __init__(self, channels, qk_ratio=0.5, kv_stride=1):
        super().__init__()
        qk = max(1, int(channels * qk_ratio))
        self.query = nn.Conv2d(channels, qk, 1)
        self.key = nn.Conv2d(channels, qk, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.kv_stride = kv_stride

    def forward(self, teacher: Tensor, student: Tensor) -> Tensor:
        b, c, h, w = teacher.shape
        if self.kv_stride > 1:
            student = F.avg_pool2d(student, self.kv_stride, ceil_mode=True)
        # (B, heads=1, positions, channels): the 4-D layout the fused
        # attention kernels (flash, memory-efficient) accept; with 3-D
        # inputs torch falls back to the math kernel, which materialises
        # the HW × hw score matrix
        q = self.query(teacher).flatten(2).transpose(1, 2)[:, None]
        k = self.key(student).flatten(2).transpose(1, 2)[:, None]
        v = self.value(student).flatten(2).transpose(1, 2)[:, None]
        fused = F.scaled_dot_product_attention(q, k, v)  # /√Cq
        return fused[:, 0].transpose(1, 2).reshape(b, c, h, w)


@MODELS.register_module()
class ACAMKDLoss(nn.Module):
    """ACAM-KD for one feature pair (one FPN level, or segmentation logits).

    ``F_S' = f_align(F_S)`` (1×1 conv to the teacher's channels); fused
    features from :class:`STCAFusion`; adaptive spatial–channel masks
    (ASCM) from M learnable selection units per family::

        M^s = σ(m_s · flatten(F_fused))       m_s ∈ R^{M×C}  ->  M × HW
        M^c = σ(m_c ⊙ avgpool(F_fused))       m_c ∈ R^{M×C}  ->  M × C

    and the loss ``α_s L_s + α_c L_c + λ L_div`` with mask-weighted mean
    squared differences (:func:`masked_mse`, normalised by C for spatial and
    HW for channel masks) and the Dice diversity of each mask family.

    Args:
        student_channels, teacher_channels: feature channels.
        align: ``True`` (the paper): ``f_align`` is a learned 1×1 conv.
            ``False`` compares the student's own features (equal channels
            only): for segmentation logits, where a learned 19 → 19 conv
            lets the distillation train the align layer instead of the
            student's classifier.
        num_masks: M (6 for detection, the number of classes for
            segmentation in the paper).
        channel_units: ``'full'`` (m_c ∈ R^{M×C}, default) or ``'shared'``
            (the paper's literal m_c ∈ R^{M×1}, which makes all channel masks
            monotone in one vector).
        qk_ratio, kv_stride: see :class:`STCAFusion`.
        alpha_spatial, alpha_channel, lambda_div: weights (1, 1, 1 in the
            paper; MasKD used 7 for imitation).
        mask_power: 1 = mask-weighted mean (default); 2 = literal
            ``‖M ⊙ D‖²``.
        div_grad: what the diversity loss trains: ``'all'`` (the paper's
            joint objective: the selection units, the fusion and, through
            the fused features, the student) or ``'units'`` (the selection
            units only; the student is then shaped by the distillation
            terms alone).
        detach_masks: ``False`` (the paper's joint objective): L_s and L_c
            also train the masks (the selection units and the fusion),
            which can lower them by weighting the positions the student
            already imitates; ``True`` weights L_s and L_c with detached
            masks (MasKD's rule: masks learn from the diversity loss
            only).
        loss_weight: multiplies everything.

    Returns a dict ``loss_spatial``, ``loss_channel``, ``loss_div``; the last
    masks are kept in :attr:`last_masks` for visualisation.
    """

    def __init__(self, student_channels, teacher_channels, num_masks=6,
                 channel_units='full', qk_ratio=0.5, kv_stride=1,
                 alpha_spatial=1.0, alpha_channel=1.0, lambda_div=1.0,
                 mask_power=1, div_grad='all', align=True,
                 detach_masks=False, loss_weight=1.0):
        super().__init__()
        if not align and student_channels != teacher_channels:
            raise ValueError(
                'ACAMKDLoss(align=False) needs equal channels, got student '
                f'{student_channels} and teacher {teacher_channels}')
        if div_grad not in ('all', 'units'):
            raise ValueError("div_grad must be 'all' or 'units', got "
                             f'{div_grad!r}')
        if channel_units not in ('full', 'shared'):
            raise ValueError("channel_units must be 'full' or 'shared', got "
                             f'{channel_units!r}')
        self.student_channels = student_channels
        self.teacher_channels = teacher_channels
        self.align = (nn.Conv2d(student_channels, teacher_channels, 1)
                      if align else nn.Identity())
        self.fusion = STCAFusion(teacher_channels, qk_ratio, kv_stride)
        self.spatial_units = nn.Parameter(
            torch.randn(num_masks, teacher_channels) / teacher_channels**0.5)
        c = teacher_channels if channel_units == 'full' else 1
        self.channel_units = nn.Parameter(torch.randn(num_masks, c))
        self.alpha_spatial = alpha_spatial
        self.alpha_channel = alpha_channel
        self.lambda_div = lambda_div
        self.mask_power = mask_power
        self.div_grad = div_grad
        self.detach_masks = detach_masks
        self.loss_weight = loss_weight
        self.last_masks = None

    def masks(self, fused: Tensor):
        """ASCM: spatial ``(B, M, H, W)`` and channel ``(B, M, C)`` masks."""
        b, c, h, w = fused.shape
        spatial = torch.sigmoid(
            torch.einsum('mc,bcp->bmp', self.spatial_units, fused.flatten(2)))
        pooled = fused.mean(dim=(2, 3))  # B, C
        channel = torch.sigmoid(self.channel_units[None] * pooled[:, None])
        return spatial.view(b, -1, h, w), channel

    def forward(self, student: Tensor, teacher: Tensor) -> dict:
        if student.shape[1] != self.student_channels or \
                teacher.shape[1] != self.teacher_channels:
            raise ValueError(
                f'ACAMKDLoss built for student/teacher channels '
                f'{self.student_channels}/{self.teacher_channels}, got '
                f'{student.shape[1]}/{teacher.shape[1]}')
        if student.shape[2:] != teacher.shape[2:]:
            student = F.interpolate(student, teacher.shape[2:],
                                    mode='bilinear', align_corners=False)
        teacher = teacher.detach()
        aligned = self.align(student)
        fused = self.fusion(teacher, aligned)
        spatial, channel = self.masks(fused)
        self.last_masks = spatial.detach()
        b, c, h, w = teacher.shape
        diff2 = float32_diff2(teacher, aligned)  # B, C, HW
        weight_s, weight_c = (spatial.detach(), channel.detach()) \
            if self.detach_masks else (spatial, channel)
        loss_s = masked_mse(diff2, weight_s.flatten(2), norm=c,
                            mask_power=self.mask_power)
        loss_c = masked_mse(diff2.transpose(1, 2), weight_c, norm=h * w,
                            mask_power=self.mask_power)
        if self.div_grad == 'units':  # masks of the detached fused features
            spatial, channel = self.masks(fused.detach())
        loss_div = dice_diversity(spatial.flatten(2)) + \
            dice_diversity(channel)
        k = self.loss_weight
        return dict(loss_spatial=k * self.alpha_spatial * loss_s,
                    loss_channel=k * self.alpha_channel * loss_c,
                    loss_div=k * self.lambda_div * loss_div)
