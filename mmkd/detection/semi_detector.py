"""What every semi-supervised detector on the core shares: pseudo-label
targets as mmdet ``DetDataSample`` s, their move into the student's view,
and their statistics."""
import copy
from typing import Dict, List

import numpy as np
import torch
from mmdet.structures.bbox import bbox_overlaps
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData

from mmkd.teacher_student.model import TeacherStudentModel
from mmkd.teacher_student.views import project_boxes, view_to_view, warp_maps

from .pseudo_label_quality import BoxPseudoLabelStatistics


class TeacherStudentDetector(TeacherStudentModel):
    """A teacher–student model whose members are mmdet detectors.

    Pseudo-label targets are ``DetDataSample`` s of the teacher's view whose
    ``gt_instances`` hold the kept boxes with ``labels``, ``scores`` and
    what the method adds (``reg_unc``, ``masks``, per-instance ``weights``)
    and whose ``ignored_instances`` hold the pseudo-labeller's ignore regions
    (:meth:`label_instances`); :meth:`to_student_view` moves both into the
    student's view (boxes by their corners, masks resampled, both in torch)
    and drops pseudo boxes smaller than ``min_pseudo_bbox_wh``.  The
    student-view samples also carry the teacher view's
    ``teacher_homography_matrix`` and ``teacher_img_shape``, so a method can
    map student boxes back to the teacher.

    Args:
        min_pseudo_bbox_wh: smallest pseudo box ``(w, h)`` in the student's
            view.
        record_score_thr: the statistics hook records the pseudo boxes with
            a score above this (default: every kept box).
        Others: :class:`~mmkd.teacher_student.TeacherStudentModel`.
    """

    def __init__(self, *args, min_pseudo_bbox_wh=(1e-2, 1e-2),
                 record_score_thr=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.min_pseudo_bbox_wh = min_pseudo_bbox_wh
        self.record_score_thr = record_score_thr
        self._statistics = None
        self.check_labeller_classes(self.num_classes)

    @property
    def num_classes(self) -> int:
        student = getattr(self, self.student_names[0])
        head = student.roi_head.bbox_head if hasattr(student, 'roi_head') \
            else student.bbox_head
        return head.num_classes

    def label_instances(self, preds: InstanceData):
        """``(pseudo-labels, ignore regions)`` of one image's teacher
        predictions; the pseudo-labels carry per-box ``weights`` (1 unless
        the labeller gives them)."""
        self.observe_unlabelled_scores(preds.scores, preds.labels)
        kept, kept.weights = self.pseudo_labeller(preds)
        return kept, self.pseudo_labeller.ignored(preds)

    def labelled_teacher_scores(self, inputs, data_samples):
        """Scores and classes of the teacher's boxes on a labelled batch
        that match a ground-truth box of their class (IoU ≥ 0.5)."""
        return self.matched_scores(getattr(self, self.teacher_names[0]),
                                   inputs, data_samples)

    @staticmethod
    def matched_scores(teacher, inputs, data_samples):
        """``(scores, classes)`` of ``teacher``'s boxes on a labelled batch
        that match a ground-truth box of their class (IoU ≥ 0.5)."""
        results = teacher.predict(inputs, data_samples, rescale=False)
        scores, labels = [], []
        for result, sample in zip(results, data_samples):
            pred, gt = result.pred_instances, sample.gt_instances
            gt_boxes = gt.bboxes.to(pred.bboxes.device)
            iou = bbox_overlaps(pred.bboxes, gt_boxes) if len(gt) else \
                pred.bboxes.new_zeros(len(pred), 0)
            same = pred.labels[:, None] == gt.labels.to(pred.labels)[None]
            match = ((iou >= 0.5) & same).any(1)
            scores.append(pred.scores[match])
            labels.append(pred.labels[match])
        return torch.cat(scores), torch.cat(labels)

    @staticmethod
    def as_targets(data_samples, instances, ignored=None) -> List:
        """Teacher-view targets: a copy of each sample holding its pseudo
        instances as ``gt_instances`` (and ignore regions as
        ``ignored_instances``)."""
        targets = []
        for i, (sample, inst) in enumerate(zip(data_samples, instances)):
            target = copy.copy(sample)
            target.gt_instances = inst
            if ignored is not None:
                target.ignored_instances = ignored[i]
            targets.append(target)
        return targets

    def to_student_view(self, targets, inputs, data_samples):
        out = []
        for target, sample in zip(targets, data_samples):
            t_to_s = view_to_view(target.homography_matrix,
                                  sample.homography_matrix)
            inst = copy.copy(target.gt_instances)
            inst.bboxes = project_boxes(inst.bboxes, t_to_s, sample.img_shape)
            masks = inst.get('masks')
            if masks is not None:
                inst.masks = warp_maps(torch.as_tensor(masks).to(torch.uint8),
                                       t_to_s, sample.img_shape[:2])
            wh = inst.bboxes[:, 2:] - inst.bboxes[:, :2]
            inst = inst[(wh[:, 0] > self.min_pseudo_bbox_wh[0])
                        & (wh[:, 1] > self.min_pseudo_bbox_wh[1])]
            if masks is not None:
                h, w = sample.img_shape[:2]
                inst.masks = BitmapMasks(inst.masks.cpu().numpy(), h, w)
            sample = copy.copy(sample)
            sample.gt_instances = inst
            if 'ignored_instances' in target:
                ignored = InstanceData(
                    bboxes=project_boxes(target.ignored_instances.bboxes,
                                         t_to_s, sample.img_shape),
                    labels=target.ignored_instances.labels)
                if 'scores' in target.ignored_instances:
                    ignored.scores = target.ignored_instances.scores
                sample.ignored_instances = ignored
            sample.set_metainfo(dict(
                teacher_homography_matrix=target.homography_matrix,
                teacher_img_shape=target.img_shape))
            out.append(sample)
        return inputs, out

    # -- statistics ---------------------------------------------------------
    def pseudo_label_records_of(self, targets) -> List[Dict]:
        """Per image: the pseudo boxes (above ``record_score_thr``) in
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
            if self.record_score_thr is not None:
                part = part[part[:, 5] > self.record_score_thr]
            records.append(dict(img_id=target.metainfo.get('img_id'),
                                bboxes=part[:, :4], labels=part[:, 4].long(),
                                scores=part[:, 5]))
        return records

    def setup_pseudo_label_statistics(self, classes, gt_ann_file=None,
                                      palette=None):
        self._statistics = BoxPseudoLabelStatistics(classes, gt_ann_file)

    def render_pseudo_labels(self, images, targets):
        """The teacher-view images (enlarged up to 4x, to about 480 px)
        with their pseudo boxes: weight 1 green, weighted (a dual-threshold
        labeller's middle tier) yellow, ignore regions red; each with its
        class and score."""
        import cv2
        classes = self._statistics.classes if self._statistics else ()
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
                name = classes[lab] if lab < len(classes) else str(lab)
                cv2.putText(image, f'{name} {sc:.2f}', (x1 + 1, y1 + 10),
                            cv2.FONT_HERSHEY_PLAIN, 0.7, rgb, 1)
            out.append(image)
        return out

    def summarise_pseudo_labels(self, records) -> Dict[str, float]:
        return self._statistics.summarise(records)
