"""Mask-weighted feature imitation and mask diversity, shared by MasKD-style
and ACAM-KD distillation.

Both sum over every position of a feature map (about 67 k at stride 4 of an
1333 × 800 image) and square differences, which overflows float16 (largest
value 65 504): under ``--amp`` they run in float32, whatever the inputs'
type, and return float32.
"""
import torch
from torch import Tensor


def float32_diff2(teacher: Tensor, student: Tensor) -> Tensor:
    """``(F_T − F_S)²`` in float32, outside autocast, ``(B, C, H·W)``."""
    with torch.autocast(teacher.device.type, enabled=False):
        return (teacher.float() - student.float()).pow(2).flatten(2)


def masked_mse(diff2: Tensor, masks: Tensor, norm: int,
               mask_power: int = 1, eps: float = 1e-6) -> Tensor:
    """Mean over masks (and the batch) of a mask-weighted mean of the
    squared difference::

        1/M Σ_m  Σ_j (M_m,j)^q · D²_j / (norm · Σ_j M_m,j)

    Args:
        diff2: squared difference ``(B, N, K)`` whose last axis is the one
            the masks select over (positions for spatial masks, channels for
            channel masks); ``N`` is the other axis, summed.
        masks: ``(B, M, K)`` in (0, 1).
        norm: the size of the summed axis (C for spatial masks, HW for
            channel masks) -- the paper's normaliser.
        mask_power: ``q``; 1 = weighted mean (default), 2 = the literal
            ``‖M ⊙ (F_T − F_S)‖²`` of the paper's notation.
    """
    with torch.autocast(diff2.device.type, enabled=False):
        diff2, masks = diff2.float(), masks.float()
        per_pos = diff2.sum(dim=1)  # (B, K)
        weighted = torch.einsum('bmk,bk->bm', masks.pow(mask_power),
                                per_pos)
        return (weighted / (norm * masks.sum(dim=-1) + eps)).mean()


def dice_diversity(masks: Tensor, eps: float = 1e-6) -> Tensor:
    """Mean pairwise Dice coefficient between the M masks of a family
    (MasKD's diversity loss): ``d_ij = 2 Σ p_i p_j / (Σ p_i² + Σ p_j² + ε)``,
    off-diagonal mean.  1 for identical masks, ~0 for disjoint ones.

    Args:
        masks: ``(B, M, K)``.
    """
    b, m, _ = masks.shape
    if m < 2:
        return masks.new_zeros((), dtype=torch.float32)
    with torch.autocast(masks.device.type, enabled=False):
        masks = masks.float()
        inter = torch.einsum('bik,bjk->bij', masks, masks)
        sq = masks.pow(2).sum(dim=-1)
        dice = 2 * inter / (sq[:, :, None] + sq[:, None, :] + eps)
        off = ~torch.eye(m, dtype=torch.bool, device=masks.device)
        return dice[:, off].mean()
