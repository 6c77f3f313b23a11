"""How good are the pseudo boxes?  Precision and recall of pseudo-labels
against the hidden ground truth of the unlabelled images (the demo splits
keep it in ``…-unlabeled.gt.json``)."""
import json
from collections import defaultdict
from typing import Dict, List

import torch
from mmdet.structures.bbox import bbox_overlaps

from mmkd.utils.errors import DataError, check_file


def count_true_positives(pred_bboxes, pred_labels, pred_scores, gt_bboxes,
                         gt_labels, iou_thr=0.5) -> int:
    """Greedy matching, highest score first: a pseudo box is a true
    positive when it overlaps an unmatched ground-truth box of its class
    with IoU ≥ ``iou_thr`` (COCO-style matching at one threshold)."""
    if len(pred_bboxes) == 0 or len(gt_bboxes) == 0:
        return 0
    ious = bbox_overlaps(pred_bboxes.float(), gt_bboxes.float())
    ious[pred_labels[:, None] != gt_labels[None, :]] = -1
    matched = torch.zeros(len(gt_bboxes), dtype=torch.bool)
    tp = 0
    for i in torch.argsort(pred_scores, descending=True).tolist():
        iou = ious[i].clone()
        iou[matched] = -1
        best = int(iou.argmax())
        if iou[best] >= iou_thr:
            matched[best] = True
            tp += 1
    return tp


class HiddenGroundTruth:
    """Ground-truth boxes of unlabelled images by image id, with labels as
    indices into ``classes`` (xyxy, original image coordinates)."""

    def __init__(self, ann_file, classes):
        check_file(ann_file, 'hidden ground truth of the unlabelled set')
        with open(ann_file) as f:
            coco = json.load(f)
        names = {c['id']: c['name'] for c in coco.get('categories', [])}
        missing = [n for n in names.values() if n not in classes]
        if missing:
            raise DataError(f'{ann_file}: categories {missing} are not in the '
                            f'class list {list(classes)}')
        boxes, labels = defaultdict(list), defaultdict(list)
        for ann in coco.get('annotations', []):
            if ann.get('iscrowd', 0):
                continue
            x, y, w, h = ann['bbox']
            boxes[ann['image_id']].append([x, y, x + w, y + h])
            labels[ann['image_id']].append(
                classes.index(names[ann['category_id']]))
        self.image_ids = {img['id'] for img in coco['images']}
        self._boxes = {k: torch.tensor(v) for k, v in boxes.items()}
        self._labels = {k: torch.tensor(v) for k, v in labels.items()}

    def __contains__(self, img_id):
        return img_id in self.image_ids

    def get(self, img_id):
        return (self._boxes.get(img_id, torch.zeros(0, 4)),
                self._labels.get(img_id, torch.zeros(0, dtype=torch.long)))


class BoxPseudoLabelStatistics:
    """Scalars of a list of pseudo-box records (``img_id``, ``bboxes`` in
    original-image coordinates, ``labels``, ``scores``): boxes per image and
    per class, their mean score and -- given the hidden ground truth of the
    unlabelled images (``gt_ann_file``) -- precision and recall at IoU
    ``iou_thr``."""

    def __init__(self, classes, gt_ann_file=None, iou_thr=0.5):
        self.classes = tuple(classes)
        self.gt = HiddenGroundTruth(gt_ann_file, self.classes) \
            if gt_ann_file is not None else None
        self.iou_thr = iou_thr

    def summarise(self, records: List[Dict]) -> Dict[str, float]:
        n_img = max(len(records), 1)
        per_class = defaultdict(int)
        scores = []
        tp = n_pred = n_gt = 0
        for r in records:
            for label in r['labels'].tolist():
                per_class[label] += 1
            scores += r['scores'].tolist()
            if self.gt is not None and r['img_id'] in self.gt:
                gt_boxes, gt_labels = self.gt.get(r['img_id'])
                tp += count_true_positives(r['bboxes'], r['labels'],
                                           r['scores'], gt_boxes, gt_labels,
                                           self.iou_thr)
                n_pred += len(r['bboxes'])
                n_gt += len(gt_boxes)
        out = dict(boxes_per_img=sum(per_class.values()) / n_img,
                   mean_score=sum(scores) / len(scores) if scores else 0.0)
        for c, name in enumerate(self.classes):
            out[f'{name}_per_img'] = per_class[c] / n_img
        if self.gt is not None:
            out['precision'] = tp / n_pred if n_pred else 0.0
            out['recall'] = tp / n_gt if n_gt else 0.0
        return out
