"""Dual Mean-Teacher for segmentation (after DMT, Lin et al., NeurIPS 2023):
the agreement of two teachers' class maps and their consensus pixels."""
from typing import Optional, Tuple

import torch
from torch import Tensor


def confident_class_map(probs: Tensor, delta: float = 0.5,
                        ignore_index: int = 255) -> Tensor:
    """A teacher's prediction binarised at δ: the arg-max class where the
    top probability reaches ``delta``, ``ignore_index`` elsewhere.
    ``probs``: ``(C, H, W)`` softmax."""
    score, label = probs.max(0)
    return label.masked_fill(score < delta, ignore_index)


def class_map_agreement(a: Tensor, b: Tensor,
                        ignore_index: int = 255) -> float:
    """Mean over the classes present in either map of
    ``IoU_c = |a = c ∧ b = c| / |a = c ∨ b = c|`` (``ignore_index`` is no
    class); 1.0 when neither map has a class (the teachers agree that
    nothing is certain -- the consensus is then empty anyway)."""
    classes = torch.unique(torch.cat([a.flatten(), b.flatten()]))
    classes = classes[classes != ignore_index]
    if len(classes) == 0:
        return 1.0
    ious = [((a == c) & (b == c)).sum() / ((a == c) | (b == c)).sum()
            for c in classes]
    return float(torch.stack(ious).float().mean())


def consensus_labels(probs_a: Tensor, probs_b: Tensor, delta: float = 0.5,
                     ignore_index: int = 255,
                     valid: Optional[Tensor] = None) -> Tuple[Tensor, float]:
    """``(labels, agreement)`` of two teachers' softmax maps ``(C, H, W)``:
    a pixel gets class c only where both teachers predict c with confidence
    ≥ δ, else ``ignore_index``; ``agreement`` is
    :func:`class_map_agreement` of the two binarised maps over the
    ``valid`` pixels (``(H, W)`` bool; e.g. not padding: teachers that agree
    on the padding of a crop must not pass the filter for it)."""
    a = confident_class_map(probs_a, delta, ignore_index)
    b = confident_class_map(probs_b, delta, ignore_index)
    if valid is not None:
        a = a.masked_fill(~valid, ignore_index)
        b = b.masked_fill(~valid, ignore_index)
    labels = torch.where(a == b, a, torch.full_like(a, ignore_index))
    return labels, class_map_agreement(a, b, ignore_index)
