"""What every semi-supervised detector on the core shares: pseudo-label
targets as mmdet ``DetDataSample`` s, their move into the student's view,
and their statistics."""
import copy
from typing import Dict, List

import torch
from mmdet.structures.bbox import bbox_overlaps
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData

from mmkd.teacher_student.model import TeacherStudentModel
from mmkd.teacher_student.views import project_boxes, view_to_view, warp_maps


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
    def pseudo_label_statistics(self) -> Dict:
        """What ``PseudoLabelStatsHook`` counts and draws: pseudo boxes."""
        return dict(type='mmkd.BoxPseudoLabelStatistics',
                    score_thr=self.record_score_thr)
