"""RAIL's loss terms (Region-Aware Instructive Learning, arXiv 2505.03538):
the DFS controller on labelled voxels, the CAL modulator and the teacher
term on unlabelled voxels.

Shapes: logits ``(N, C, X, Y, Z)``, labels ``(N, X, Y, Z)``. The per-voxel
definitions are the paper's (its figure's ``M_mis`` and per-voxel KL); the
reference code computes ``M_mis`` as the predicted foreground and the KL
along the W axis (``shared/specs/rail_reference.md`` §1.5) -- not
reproduced here. One switch remains, ``cal_kl_input``: the reference code
applies its push towards uniform to probabilities (a double softmax),
SDCL, RAIL's ancestor, to logits (the default here).
"""
from typing import Optional

from torch import Tensor


def masked_mean(values: Tensor, mask: Optional[Tensor] = None,
                eps: float = 1e-8) -> Tensor:
    """``Σ v·m / (Σ m + eps)`` (the mean over the masked voxels; 0 for an
    empty mask, never NaN); the plain mean without a mask."""
    if mask is None:
        return values.mean()
    mask = mask.to(values.dtype)
    return (values * mask).sum() / (mask.sum() + eps)


def sharpen(probs: Tensor, temperature: float = 0.1) -> Tensor:
    """``q^{1/T} / Σ_c q_c^{1/T}`` over the class axis (dim 1)."""
    powered = probs.clamp_min(1e-12).log().div(temperature)
    return powered.softmax(1)


def uniform_kl(x: Tensor) -> Tensor:
    """Per-voxel ``KL(u ‖ softmax(x))`` up to a constant:
    ``−mean_c log_softmax(x)_c`` (``(N, X, Y, Z)``); it is smallest where
    ``softmax(x)`` is uniform, so minimising it makes a voxel uncertain."""
    return -x.log_softmax(1).mean(1)


def dfs_loss(logits: Tensor, target: Tensor, best_pred: Tensor,
             is_best: bool, alpha: float = 0.5, beta: float = 0.05) -> Tensor:
    """The DFS controller of one student on the labelled crop.

    With ``p`` the foreground probability, ``ŷ = argmax``, ``M_mis = ŷ ≠ y``
    and ``M_diff = ŷ ≠ ŷ_best`` (``best_pred`` is the best student's
    argmax)::

        not best: α·mean_{M_diff} (p − y)² + β·mean_{M_diff ∧ M_mis} K
        best:     α·mean_all (p − y)²      + β·mean_{M_mis} K

    with ``K = KL(u ‖ softmax z)`` per voxel (:func:`uniform_kl`).

    The squared error pulls the student to the label where it departs from
    the best student; the KL term makes its wrong voxels uncertain.
    """
    probs = logits.softmax(1)
    fg = probs[:, 1:].sum(1)  # foreground = every class but background
    sq_err = (fg - (target > 0).to(fg.dtype))**2
    pred = logits.argmax(1)
    mis = pred != target
    kl = uniform_kl(logits)
    if is_best:
        return alpha * sq_err.mean() + beta * masked_mean(kl, mis)
    diff = pred != best_pred
    return (alpha * masked_mean(sq_err, diff) +
            beta * masked_mean(kl, diff & mis))


def cal_loss(logits: Tensor, best_probs: Tensor, weight: float,
             temperature: float = 0.1, kl_input: str = 'logits',
             confidence: float = None) -> Tensor:
    """The CAL modulator of a student that is not the best, on unlabelled
    voxels: with ``P = sharpen(p_best, T)`` and ``M_div = ŷ_s ≠ ŷ_best``::

        λ_c·mean (p_s − P)² + 0.1·λ_c·mean_{M_div} KL(u ‖ softmax(·))

    ``kl_input='logits'`` (SDCL) or ``'prob'`` (RAIL's code: the uniform KL
    of the probabilities). ``confidence``: optional gate (an extension, off
    in the paper): the squared error only where ``max p_best ≥ γ``."""
    if kl_input not in ('logits', 'prob'):
        raise ValueError(f"kl_input must be 'logits' or 'prob', "
                         f'got {kl_input!r}')
    probs = logits.softmax(1)
    best_probs = best_probs.detach()
    target = sharpen(best_probs, temperature)
    sq_err = ((probs - target)**2).mean(1)
    gate = None
    if confidence is not None:
        gate = best_probs.max(1).values >= confidence
    div = logits.argmax(1) != best_probs.argmax(1)
    kl = uniform_kl(logits if kl_input == 'logits' else probs)
    return weight * (masked_mean(sq_err, gate) + 0.1 * masked_mean(kl, div))


def teacher_loss(logits: Tensor, teacher_probs: Tensor, weight: float,
                 temperature: float = 0.1) -> Tensor:
    """``λ_T·mean (p_s − sharpen(p_T, T))²`` on unlabelled voxels."""
    target = sharpen(teacher_probs.detach(), temperature)
    return weight * ((logits.softmax(1) - target)**2).mean()


def best_student(dice_losses: dict) -> str:
    """The name of the student with the lowest Dice loss on the labelled
    crop (the first one on a tie)."""
    return min(dice_losses, key=lambda k: float(dice_losses[k].detach()))


__all__ = ['sharpen', 'uniform_kl', 'dfs_loss', 'cal_loss', 'teacher_loss',
           'best_student']
