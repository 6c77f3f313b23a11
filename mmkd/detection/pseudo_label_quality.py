"""How good are the pseudo boxes?  Their count, score and -- against the
hidden ground truth of the unlabelled images (the demo splits keep it in
``…-unlabeled.gt.json``) -- precision and recall; and pictures of them
(:class:`~mmkd.engine.hooks.PseudoLabelStatsHook` asks)."""
import json
from collections import defaultdict
from typing import Dict, List

import numpy as np
import torch
from mmdet.structures.bbox import bbox_overlaps

from mmkd.registry import TASK_UTILS
from mmkd.teacher_student.views import project_boxes
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


@TASK_UTILS.register_module()
class BoxPseudoLabelStatistics:
    """Statistics of pseudo boxes (``DetDataSample`` targets of the
    teacher's view): :meth:`records_of` one step's targets, :meth:`summarise`
    records -- boxes per image and per class, their mean score and, given
    the hidden ground truth of the unlabelled images (``gt_ann_file``),
    precision and recall at IoU ``iou_thr`` -- and :meth:`draw` them.

    Args:
        classes: the data set's class names.
        gt_ann_file: COCO json of the unlabelled images' hidden boxes.
        score_thr: only boxes scoring above it are counted (Soft Teacher:
            its classification threshold; default: all).
        palette: unused (boxes are coloured by tier).
    """

    def __init__(self, classes, gt_ann_file=None, iou_thr=0.5,
                 score_thr=None, palette=None):
        self.classes = tuple(classes)
        self.gt = HiddenGroundTruth(gt_ann_file, self.classes) \
            if gt_ann_file is not None else None
        self.iou_thr = iou_thr
        self.score_thr = score_thr

    def records_of(self, targets) -> List[Dict]:
        """Per image: the pseudo boxes (above ``score_thr``) in
        original-image coordinates, with labels and scores.

        All images' boxes leave the device in one transfer and are filtered
        on the host (per image and per filter, a GPU would wait three or
        four times a step)."""
        rows, sizes = [], []
        for target in targets:
            inst = target.gt_instances
            to_orig = np.linalg.inv(
                np.asarray(target.homography_matrix, np.float64))
            boxes = project_boxes(inst.bboxes, to_orig, target.ori_shape)
            rows.append(torch.cat([boxes, inst.labels[:, None].to(boxes),
                                   inst.scores[:, None].to(boxes)], 1))
            sizes.append(len(inst))
        host = torch.cat(rows).cpu() if rows else torch.zeros(0, 6)
        records = []
        for target, part in zip(targets, host.split(sizes)):
            if self.score_thr is not None:
                part = part[part[:, 5] > self.score_thr]
            records.append(dict(img_id=target.metainfo.get('img_id'),
                                bboxes=part[:, :4], labels=part[:, 4].long(),
                                scores=part[:, 5]))
        return records

    def draw(self, images, targets) -> List[np.ndarray]:
        """The teacher-view images (enlarged up to 4x, to about 480 px)
        with their pseudo boxes: weight 1 green, weighted (a dual-threshold
        labeller's middle tier) yellow, ignore regions red; each with its
        class and score."""
        import cv2
        out = []
        for image, target in zip(images, targets):
            # small images are drawn larger, so the labels stay readable
            k = int(np.clip(480 // max(image.shape[:2]), 1, 4))
            image = np.ascontiguousarray(
                image.repeat(k, axis=0).repeat(k, axis=1))
            inst = target.gt_instances
            ignored = target.get('ignored_instances')
            boxes = [(b, lab, sc, (0, 200, 0) if w >= 1 else (230, 200, 0))
                     for b, lab, sc, w in zip(
                         inst.bboxes.tolist(), inst.labels.tolist(),
                         inst.scores.tolist(),
                         inst.get('weights', inst.scores.new_ones(
                             len(inst))).tolist())]
            if ignored is not None and 'scores' in ignored:
                boxes += [(b, lab, sc, (220, 0, 0)) for b, lab, sc in zip(
                    ignored.bboxes.tolist(), ignored.labels.tolist(),
                    ignored.scores.tolist())]
            for box, lab, sc, rgb in boxes:
                x1, y1, x2, y2 = (int(v * k) for v in box)
                cv2.rectangle(image, (x1, y1), (x2, y2), rgb, 1)
                name = self.classes[lab] if lab < len(self.classes) \
                    else str(lab)
                cv2.putText(image, f'{name} {sc:.2f}', (x1 + 1, y1 + 10),
                            cv2.FONT_HERSHEY_PLAIN, 0.7, rgb, 1)
            out.append(image)
        return out

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
