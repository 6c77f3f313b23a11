"""Voxel losses with masks, for supervised and semi-supervised 3D
segmentation (RAIL's supervised and disagreement terms; see
``shared/specs/rail_reference.md`` §1.4).

Logits are ``(N, C, X, Y, Z)``, targets ``(N, X, Y, Z)`` class indices;
a mask ``(N, X, Y, Z)`` (bool or weights in [0, 1]) selects the voxels a
term is computed on.
"""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor


def masked_mean(values: Tensor, mask: Optional[Tensor] = None,
                eps: float = 1e-8) -> Tensor:
    """``Σ v·m / (Σ m + eps)`` (the mean over the masked voxels; 0 for an
    empty mask, never NaN); the plain mean without a mask."""
    if mask is None:
        return values.mean()
    mask = mask.to(values.dtype)
    return (values * mask).sum() / (mask.sum() + eps)


def masked_cross_entropy(logits: Tensor, target: Tensor,
                         mask: Optional[Tensor] = None,
                         ignore_index: int = 255) -> Tensor:
    """Voxel cross-entropy averaged over ``mask`` (and over voxels whose
    target is not ``ignore_index``)."""
    valid = target != ignore_index
    ce = F.cross_entropy(logits, target.masked_fill(~valid, 0),
                         reduction='none')
    weight = valid.to(ce.dtype) if mask is None else valid * mask
    return masked_mean(ce, weight)


def soft_dice_loss(logits: Tensor, target: Tensor,
                   mask: Optional[Tensor] = None, squared: bool = False,
                   eps: float = 1e-5) -> Tensor:
    """V-Net's soft Dice loss on softmax probabilities ``P`` of the
    foreground classes, pooled over the batch::

        1 − mean_{c ≥ 1} (2 Σ P_c·Y_c + ε) / (Σ P_c^k + Σ Y_c^k + ε)

    with ``k = 2`` when ``squared`` (RAIL, MONAI's ``squared_pred=True``),
    else ``k = 1``; sums run over the voxels of ``mask`` when given."""
    prob = logits.softmax(1)
    onehot = F.one_hot(target, logits.shape[1]).movedim(-1, 1).to(prob.dtype)
    if mask is not None:
        m = mask.to(prob.dtype)[:, None]
        prob, onehot = prob * m, onehot * m
    dims = (0, *range(2, logits.dim()))
    inter = (prob * onehot).sum(dims)
    power = 2 if squared else 1
    denom = prob.pow(power).sum(dims) + onehot.pow(power).sum(dims)
    dice = (2 * inter + eps) / (denom + eps)
    return 1 - dice[1:].mean()
