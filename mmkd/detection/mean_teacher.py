"""Mean-teacher detection on the teacher–student core (Tarvainen & Valpola,
2017, as adapted to detection by Unbiased Teacher / Soft Teacher): the EMA
teacher's confident boxes on the weak view supervise the student on the
strong view."""
import copy

import torch
from mmdet.structures.bbox import bbox_project

from mmkd.registry import MODELS
from mmkd.teacher_student.model import TeacherStudentModel


@MODELS.register_module()
class MeanTeacherDetector(TeacherStudentModel):
    """Semi-supervised detector: pseudo boxes from the teacher, kept by the
    pseudo-labeller (default: score ≥ 0.9), mapped from the teacher's view
    to the student's with the recorded homographies, and used as ground
    truth for the student's full detection loss.

    Args:
        min_pseudo_bbox_wh: drop pseudo boxes smaller than this (w, h) in the
            student's view.
        Others: see :class:`TeacherStudentModel`.

    An unlabelled batch without any pseudo box contributes no unsupervised
    loss (zero, never NaN) and is logged as such.
    """

    def __init__(self, *args, min_pseudo_bbox_wh=(1e-2, 1e-2), **kwargs):
        kwargs.setdefault('pseudo_labeller',
                          dict(type='FixedThreshold', score_thr=0.9))
        super().__init__(*args, **kwargs)
        self.min_pseudo_bbox_wh = min_pseudo_bbox_wh

    def pseudo_label(self, inputs, data_samples):
        """Teacher predictions on the weak view, kept and mapped back to the
        original image frame."""
        results = self.teacher.predict(inputs, data_samples, rescale=False)
        targets = []
        for sample, result in zip(data_samples, results):
            kept = self.pseudo_labeller(result.pred_instances)
            # teacher view -> original image
            to_orig = torch.from_numpy(sample.homography_matrix).inverse()
            kept.bboxes = bbox_project(kept.bboxes,
                                       to_orig.to(kept.bboxes), sample.ori_shape)
            targets.append(kept)
        return targets

    def to_student_view(self, targets, student_samples):
        out = []
        for kept, sample in zip(targets, student_samples):
            sample = copy.copy(sample)
            inst = copy.deepcopy(kept)
            to_student = torch.as_tensor(sample.homography_matrix).to(
                inst.bboxes)
            inst.bboxes = bbox_project(inst.bboxes, to_student,
                                       sample.img_shape)
            w = inst.bboxes[:, 2] - inst.bboxes[:, 0]
            h = inst.bboxes[:, 3] - inst.bboxes[:, 1]
            inst = inst[(w > self.min_pseudo_bbox_wh[0])
                        & (h > self.min_pseudo_bbox_wh[1])]
            sample.gt_instances = inst
            out.append(sample)
        return out

    def unsup_loss(self, inputs, samples):
        n = sum(len(s.gt_instances) for s in samples)
        stats = dict(num_pseudo=torch.tensor(float(n) / len(samples)))
        if n == 0:
            return stats
        losses = self.student.loss(inputs, samples)
        losses.update(stats)
        return losses
