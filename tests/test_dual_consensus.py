"""Dual Mean-Teacher's agreement filter and consensus pseudo-labels on
hand-made class maps and box sets."""
import pytest
import torch
from mmengine.structures import InstanceData

from mmkd.detection.dual_consensus import (
    box_set_agreement,
    consensus_boxes,
    match_boxes,
)
from mmkd.segmentation.dual_consensus import (
    class_map_agreement,
    confident_class_map,
    consensus_labels,
)


def _probs(rows):
    """(C=3, 1, W) softmax-like maps from per-pixel (class, confidence)."""
    p = torch.zeros(3, 1, len(rows))
    for i, (c, conf) in enumerate(rows):
        p[:, 0, i] = (1 - conf) / 2
        p[c, 0, i] = conf
    return p


def test_segmentation_consensus_of_two_hand_made_maps():
    # pixel: 0 both say 1 (conf), 1 both say 2 but b unsure, 2 disagree,
    # 3 both say 0 (conf), 4 both unsure
    a = _probs([(1, 0.9), (2, 0.8), (0, 0.9), (0, 0.7), (1, 0.4)])
    b = _probs([(1, 0.6), (2, 0.45), (1, 0.9), (0, 0.95), (1, 0.45)])
    labels, agreement = consensus_labels(a, b, delta=0.5)
    assert labels[0].tolist() == [1, 255, 255, 0, 255]
    # binarised: a = [1, 2, 0, 0, -], b = [1, -, 1, 0, -]
    # IoU: class 0 = 1/2, class 1 = 1/2, class 2 = 0/1 -> mean 1/3
    assert agreement == pytest.approx(1 / 3)
    assert confident_class_map(a, 0.5)[0].tolist() == [1, 2, 0, 0, 255]


def test_segmentation_agreement_of_identical_and_disjoint_maps():
    m = torch.tensor([[0, 1, 1, 255]])
    assert class_map_agreement(m, m) == 1.0
    assert class_map_agreement(m, torch.tensor([[1, 0, 0, 255]])) == 0.0
    none = torch.full((1, 4), 255)
    assert class_map_agreement(none, none) == 1.0


def _boxes(rows):
    return InstanceData(
        bboxes=torch.tensor([r[:4] for r in rows], dtype=torch.float32)
        .reshape(-1, 4),
        labels=torch.tensor([r[4] for r in rows], dtype=torch.long),
        scores=torch.tensor([r[5] for r in rows], dtype=torch.float32))


def test_boxes_match_greedily_within_a_class():
    a = _boxes([(0, 0, 10, 10, 0, 0.9), (20, 20, 30, 30, 1, 0.8)])
    b = _boxes([(20, 20, 30, 30, 2, 0.9), (0, 0, 10, 5, 0, 0.6),
                (1, 0, 10, 10, 0, 0.7)])
    ia, ib, iou = match_boxes(a, b)
    # a0 matches b2 (IoU 0.9) rather than b1 (0.5); a1 has no class-1 box
    assert ia.tolist() == [0] and ib.tolist() == [2]
    assert iou.tolist() == pytest.approx([0.9])
    # 1 matched (0.9) + 1 unmatched in a + 2 in b
    assert box_set_agreement(a, b) == pytest.approx(0.9 / 4)
    assert box_set_agreement(a[:0], b[:0]) == 1.0


class _OnGPU(torch.Tensor):
    """Stand-in for a CUDA tensor that counts host synchronisations: a
    Python truth value, number or list of it would wait for the GPU (not
    allowed here); ``.cpu()`` is the one explicit transfer (counted)."""
    transfers = 0

    def _sync(self, *args, **kwargs):
        raise AssertionError('implicit host synchronisation')

    __bool__ = __int__ = __float__ = __index__ = item = tolist = _sync

    def cpu(self, *args, **kwargs):
        _OnGPU.transfers += 1
        return self.as_subclass(torch.Tensor).clone()


def test_box_matching_transfers_the_iou_matrix_once():
    """Greedy matching waited for the GPU twice per matched pair
    (``iou.max() <= 0``, ``int(iou.argmax())``); now one transfer."""
    rows = [(0, 0, 10, 10, 0, 0.9), (20, 20, 30, 30, 1, 0.8),
            (40, 40, 50, 52, 1, 0.7)]
    a, b = _boxes(rows), _boxes([r[:4] + (r[4], 0.5) for r in rows[::-1]])
    want = [x.tolist() for x in match_boxes(a, b)]
    for boxes in (a, b):
        boxes.bboxes = boxes.bboxes.as_subclass(_OnGPU)
        boxes.labels = boxes.labels.as_subclass(_OnGPU)
    _OnGPU.transfers = 0
    got = match_boxes(a, b)
    assert _OnGPU.transfers == 1
    assert [x.cpu().tolist() for x in got] == want


def test_box_consensus_fuses_pairs_and_ignores_the_rest():
    a = _boxes([(0, 0, 10, 10, 0, 0.9), (40, 40, 50, 50, 1, 0.8),
                (60, 60, 70, 70, 1, 0.3)])
    b = _boxes([(2, 0, 12, 10, 0, 0.6), (80, 0, 90, 10, 2, 0.7)])
    fused, ignored, agreement = consensus_boxes(a, b, delta=0.5)
    # weighted mean: (0.9 * [0,0,10,10] + 0.6 * [2,0,12,10]) / 1.5
    assert fused.bboxes.tolist() == [pytest.approx([0.8, 0, 10.8, 10])]
    assert fused.scores.tolist() == pytest.approx([0.75])
    assert fused.labels.tolist() == [0]
    # the unmatched confident boxes of a and b; a's 0.3 box is below δ
    assert ignored.bboxes.tolist() == [[40, 40, 50, 50], [80, 0, 90, 10]]
    iou = 80 / 120  # [0,0,10,10] vs [2,0,12,10]
    assert agreement == pytest.approx(iou / 3)
    fused, _, _ = consensus_boxes(a, b, delta=0.5, fusion='intersection')
    assert fused.bboxes.tolist() == [[2, 0, 10, 10]]
    with pytest.raises(ValueError, match='fusion'):
        consensus_boxes(a, b, fusion='union')


def test_box_consensus_matches_only_above_the_iou_floor():
    """Two same-class boxes of IoU 0.5 exactly are two objects (matched only
    above the floor): both become ignore regions, not one fused box between
    them; above 0.5 they fuse; the floor 0 matches them."""
    a = _boxes([(0, 0, 10, 10, 0, 0.9)])
    half = _boxes([(0, 0, 10, 5, 0, 0.8)])  # IoU 50 / 100 = 0.5
    fused, ignored, agreement = consensus_boxes(a, half, delta=0.5)
    assert len(fused) == 0 and len(ignored) == 2
    assert agreement == 0.0
    fused, ignored, agreement = consensus_boxes(a, half, delta=0.5,
                                                min_iou=0.0)
    assert len(fused) == 1 and len(ignored) == 0
    assert agreement == pytest.approx(0.5)
    more = _boxes([(0, 0, 10, 6, 0, 0.8)])  # IoU 0.6
    fused, _, agreement = consensus_boxes(a, more, delta=0.5)
    assert len(fused) == 1 and agreement == pytest.approx(0.6)
    ia, _, _ = match_boxes(a, half, min_iou=0.49)
    assert ia.tolist() == [0]
