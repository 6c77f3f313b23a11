"""Dual Mean-Teacher for detection (after DMT, Lin et al., NeurIPS 2023;
transferred to boxes here): matching two teachers' boxes, their agreement,
and consensus pseudo-boxes with ignore regions."""
from typing import Tuple

import torch
from mmdet.structures.bbox import bbox_overlaps
from mmengine.structures import InstanceData
from torch import Tensor

FUSIONS = ('weighted_mean', 'intersection')


def match_boxes(a: InstanceData, b: InstanceData, min_iou: float = 0.0
                ) -> Tuple[Tensor, Tensor, Tensor]:
    """Greedy one-to-one matching of same-class boxes by IoU (the highest
    IoU pair first, pairs with IoU > ``min_iou`` only): ``(index in a,
    index in b, IoU)`` of each matched pair."""
    if len(a) == 0 or len(b) == 0:
        empty = a.bboxes.new_zeros(0, dtype=torch.long)
        return empty, empty.clone(), a.bboxes.new_zeros(0)
    iou = bbox_overlaps(a.bboxes, b.bboxes)
    iou = iou * (a.labels[:, None] == b.labels[None]).to(iou)
    # the greedy loop on the host, after one transfer of the (small) IoU
    # matrix: on a GPU each pair would otherwise cost two synchronisations
    left = iou.detach().cpu().clone()
    ia, ib = [], []
    while len(ia) < min(left.shape):
        flat = int(left.argmax())
        i, j = divmod(flat, left.shape[1])
        if left[i, j] <= min_iou:
            break
        ia.append(i)
        ib.append(j)
        left[i, :] = 0
        left[:, j] = 0
    ia = torch.tensor(ia, dtype=torch.long).to(iou.device)
    ib = torch.tensor(ib, dtype=torch.long).to(iou.device)
    return ia, ib, iou[ia, ib]


def _agreement(n_a: int, n_b: int, matched_iou: Tensor) -> float:
    n = n_a + n_b - len(matched_iou)
    return 1.0 if n == 0 else float(matched_iou.sum() / n)


def box_set_agreement(a: InstanceData, b: InstanceData) -> float:
    """Mean IoU of the matched boxes with every unmatched box counted as 0:
    ``Σ IoU(matched) / (#matched + #unmatched in a + #unmatched in b)``;
    1.0 when both sets are empty (the teachers agree on no object)."""
    return _agreement(len(a), len(b), match_boxes(a, b)[2])


def consensus_boxes(a: InstanceData, b: InstanceData, delta: float = 0.5,
                    fusion: str = 'weighted_mean', min_iou: float = 0.5
                    ) -> Tuple[InstanceData, InstanceData, float]:
    """``(pseudo boxes, ignore regions, agreement)`` of two teachers'
    detections: each binarised at δ (score ≥ ``delta``), matched
    (:func:`match_boxes`, pairs of IoU > ``min_iou``: two boxes that overlap
    less are two objects, as COCO's 0.5 match says -- fused, a 0.05-IoU pair
    would make a box on neither), matched pairs fused -- ``'weighted_mean'``:
    ``(s_a·b_a + s_b·b_b) / (s_a + s_b)``, ``'intersection'``: the common
    box -- with score ``(s_a + s_b) / 2``; unmatched confident boxes of
    either teacher become ignore regions.  ``agreement``:
    :func:`box_set_agreement` of the binarised sets."""
    if fusion not in FUSIONS:
        raise ValueError(f'fusion must be one of {FUSIONS}, got {fusion!r}')
    a = a[a.scores >= delta]
    b = b[b.scores >= delta]
    ia, ib, iou = match_boxes(a, b, min_iou)
    agreement = _agreement(len(a), len(b), iou)
    ba, bb = a.bboxes[ia], b.bboxes[ib]
    sa, sb = a.scores[ia], b.scores[ib]
    if fusion == 'weighted_mean':
        boxes = (sa[:, None] * ba + sb[:, None] * bb) / (sa + sb)[:, None]
    else:
        boxes = torch.cat([torch.maximum(ba[:, :2], bb[:, :2]),
                           torch.minimum(ba[:, 2:], bb[:, 2:])], 1)
    fused = InstanceData(bboxes=boxes, labels=a.labels[ia],
                         scores=(sa + sb) / 2)
    keep_a = torch.ones(len(a), dtype=torch.bool, device=a.bboxes.device)
    keep_b = torch.ones(len(b), dtype=torch.bool, device=b.bboxes.device)
    keep_a[ia] = False
    keep_b[ib] = False
    ignored = InstanceData(
        bboxes=torch.cat([a.bboxes[keep_a], b.bboxes[keep_b]]),
        labels=torch.cat([a.labels[keep_a], b.labels[keep_b]]),
        scores=torch.cat([a.scores[keep_a], b.scores[keep_b]]))
    return fused, ignored, agreement
