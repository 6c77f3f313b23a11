"""Soft Teacher (Xu et al., "End-to-End Semi-Supervised Object Detection with
Soft Teacher", ICCV 2021) on the teacher–student core, for Faster R-CNN and --
new here -- Mask R-CNN (pseudo masks of the teacher's confident boxes).

What differs from mmdet 3.3's ``SoftTeacher`` (same losses otherwise):

* the teacher stays in eval mode; which BatchNorm statistics it
  pseudo-labels with is a choice (``teacher_norm``), not a side effect of
  ``model.train()`` putting mmdet's teacher back in train mode;
* the regression branch forwards only the positive RoIs it samples: the box
  loss of a RoI head is a sum over positives divided by the number of sampled
  RoIs, so forwarding the negatives too (mmdet runs a whole second
  ``roi_head.loss``) is wasted work -- the value is identical;
* the teacher scores the student's negative proposals only (eq. (3) reads
  its background probability nowhere else), and the jittered boxes of the
  whole batch, with one RoI-head forward each, without the detection
  post-processing;
* the teacher can pseudo-label from fewer proposals than it is evaluated
  with (``pseudo_label_rpn_cfg``).
"""
import copy
from typing import Dict, List, Optional

import torch
from mmdet.structures.bbox import bbox2roi, bbox_overlaps
from mmengine.structures import InstanceData
from torch import Tensor

from mmkd.registry import MODELS
from mmkd.teacher_student.views import project_boxes, view_to_view

from .box_jitter import jitter_boxes, jitter_uncertainty
from .semi_detector import TeacherStudentDetector


def soft_teacher_cls_loss(loss_cls, cls_score: Tensor, labels: Tensor,
                          bg_prob: Tensor, num_classes: int,
                          fg_weight: Optional[Tensor] = None) -> Tensor:
    """The "soft teacher" classification loss of the paper, eq. (3)–(4),
    with a weight ``w_i`` per foreground RoI (the weight of its pseudo box:
    1, or a dual-threshold labeller's score)::

        L_cls = (Σ_fg w_i CE + Σ_bg p_bg CE) / max(Σ_fg w_i + Σ_bg p_bg, 1)

    Args:
        loss_cls: the RoI head's classification loss module (cross-entropy
            with per-sample weights and ``avg_factor``).
        cls_score: student logits ``(N, num_classes + 1)`` of the sampled
            proposals.
        labels: their targets; ``num_classes`` marks background.
        bg_prob: the teacher's background probability of each proposal (0
            for a proposal in an ignore region).
        fg_weight: ``w_i`` of each proposal (read at the foreground ones;
            default 1).
    """
    if fg_weight is None:
        fg_weight = torch.ones_like(bg_prob)
    weights = torch.where(labels == num_classes, bg_prob, fg_weight)
    return loss_cls(cls_score, labels, weights,
                    avg_factor=weights.sum().clamp(min=1.0))


def box_weights(instances: InstanceData) -> Tensor:
    """The pseudo boxes' loss weights (1 where the labeller gives none)."""
    if 'weights' in instances:
        return instances.weights
    return instances.bboxes.new_ones(len(instances))


@MODELS.register_module()
class SoftTeacher(TeacherStudentDetector):
    """Soft Teacher for two-stage detectors (Faster / Mask R-CNN).

    Teacher, on the weak view: RPN -> RoI head (its ``test_cfg``) -> boxes
    kept by the pseudo-labeller (default score > 0.5), each with a regression
    uncertainty from ``jitter_times`` jittered copies re-refined by the
    teacher.  Student, on the strong view:

    * RPN loss on pseudo boxes with score > ``rpn_pseudo_thr``, class-agnostic;
    * RoI classification on pseudo boxes with score > ``cls_pseudo_thr``,
      background proposals weighted by the teacher's background probability
      (:func:`soft_teacher_cls_loss`);
    * RoI regression on pseudo boxes with uncertainty < ``reg_pseudo_thr``;
    * with a dual-threshold pseudo-labeller (``DynamicDualThreshold``):
      the RPN learns from the hard tier only (weight 1), each foreground RoI
      is weighted by its pseudo box's weight in classification and
      regression, and background RoIs inside an
      ignore region (IoU ≥ ``ignore_iou_thr``) get no loss;
    * Mask R-CNN: mask loss on the classification positives, targets = the
      teacher's masks moved into the student view.

    Args:
        rpn_pseudo_thr, cls_pseudo_thr, reg_pseudo_thr: see above
            (0.9, 0.9, 0.02 in the paper).
        pseudo_label_rpn_cfg: what changes in the teacher's ``test_cfg.rpn``
            when it pseudo-labels, e.g. ``dict(max_per_img=100)`` for fewer
            proposals per image (a cheaper teacher pass); evaluation keeps
            ``test_cfg``. Default: none.
        jitter_times, jitter_scale: 10 copies, σ = 0.06·[w, h, w, h].
        ignore_iou_thr: IoU with an ignore region above which a background
            RoI is ignored.
        Others: :class:`~mmkd.detection.semi_detector.TeacherStudentDetector`;
        the default pseudo-labeller keeps teacher boxes with score > 0.5.

    The pseudo-label statistics are those of the boxes used as
    classification foreground (score > ``cls_pseudo_thr``).
    """

    def __init__(self, *args, rpn_pseudo_thr=0.9, cls_pseudo_thr=0.9,
                 reg_pseudo_thr=0.02, jitter_times=10, jitter_scale=0.06,
                 ignore_iou_thr=0.5, pseudo_label_rpn_cfg=None, **kwargs):
        kwargs.setdefault('pseudo_labeller',
                          dict(type='FixedThreshold', score_thr=0.5))
        kwargs.setdefault('record_score_thr', cls_pseudo_thr)
        super().__init__(*args, **kwargs)
        student = getattr(self, self.student_names[0])
        if not (hasattr(student, 'rpn_head')
                and hasattr(student, 'roi_head')):
            raise TypeError('SoftTeacher needs a two-stage detector (with '
                            f'rpn_head and roi_head), got '
                            f'{type(student).__name__}')
        self.rpn_pseudo_thr = rpn_pseudo_thr
        self.cls_pseudo_thr = cls_pseudo_thr
        self.reg_pseudo_thr = reg_pseudo_thr
        self.jitter_times = jitter_times
        self.jitter_scale = jitter_scale
        self.ignore_iou_thr = ignore_iou_thr
        self.pseudo_label_rpn_cfg = pseudo_label_rpn_cfg

    def pair(self):
        """The (student, teacher) modules of the single pair; a method with
        several pairs passes each to the steps below."""
        return (getattr(self, self.student_names[0]),
                getattr(self, self.teacher_names[0]))

    # -- teacher --------------------------------------------------------------
    def pseudo_label(self, inputs, data_samples):
        _, teacher = self.pair()
        x = teacher.extract_feat(inputs)
        proposals = self.teacher_proposals(teacher, x, data_samples)
        results = teacher.roi_head.predict(x, proposals, data_samples,
                                           rescale=False)
        kept, ignored = zip(*[self.label_instances(r) for r in results])
        for inst, unc in zip(kept, self.regression_uncertainty(
                teacher, x, kept, data_samples)):
            inst.reg_unc = unc
        return self.as_targets(data_samples, kept, ignored), \
            dict(teacher_feats=x)

    def teacher_proposals(self, teacher, x, data_samples) -> List:
        """``teacher``'s RPN proposals to pseudo-label with: its
        ``test_cfg.rpn`` updated with ``pseudo_label_rpn_cfg``."""
        if not self.pseudo_label_rpn_cfg:
            return teacher.rpn_head.predict(x, data_samples, rescale=False)
        cfg = copy.deepcopy(teacher.rpn_head.test_cfg)
        cfg.update(self.pseudo_label_rpn_cfg)
        return teacher.rpn_head.predict_by_feat(
            *teacher.rpn_head(x), cfg=cfg, rescale=False,
            batch_img_metas=[s.metainfo for s in data_samples])

    def regression_uncertainty(self, teacher, x, instances,
                               samples) -> List[Tensor]:
        """Per pseudo box: spread of ``teacher``'s refinements (from its
        features ``x``) of ``jitter_times`` jittered copies
        (:func:`jitter_uncertainty`); one RoI-head forward for the whole
        batch."""
        roi_head = teacher.roi_head
        times = self.jitter_times
        jittered = [jitter_boxes(i.bboxes, times, self.jitter_scale)
                    .reshape(-1, 4) for i in instances]
        rois = bbox2roi(jittered)
        if len(rois) == 0:
            return [i.bboxes.new_zeros(0) for i in instances]
        bbox_pred = roi_head._bbox_forward(x, rois)['bbox_pred']
        labels = torch.cat([i.labels.repeat(times) for i in instances])
        bbox_pred = self._select_class(roi_head.bbox_head, bbox_pred, labels)
        refined = roi_head.bbox_head.bbox_coder.decode(rois[:, 1:], bbox_pred)
        out = []
        for inst, sample, boxes in zip(
                instances, samples,
                refined.split([len(j) for j in jittered])):
            h, w = sample.img_shape[:2]
            boxes = boxes.clone()  # clip to the image, as decode(max_shape)
            boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w)
            boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h)
            out.append(jitter_uncertainty(boxes.reshape(times, len(inst), 4)))
        return out

    @staticmethod
    def _select_class(bbox_head, bbox_pred: Tensor, labels: Tensor):
        if bbox_head.reg_class_agnostic or bbox_pred.shape[1] == 4:
            return bbox_pred[:, :4]
        return bbox_pred.view(len(bbox_pred), -1, 4)[
            torch.arange(len(bbox_pred), device=bbox_pred.device), labels]

    # -- student ------------------------------------------------------------
    def unsup_loss(self, inputs, samples, info) -> Dict:
        return self.pair_unsup_loss(*self.pair(), inputs, samples,
                                    info['teacher_feats'])

    def pair_unsup_loss(self, student, teacher, inputs, samples,
                        teacher_feats) -> Dict:
        """The Soft Teacher losses of ``student`` on the pseudo-labelled
        ``samples``, background weights from ``teacher`` (its features of
        the teacher view)."""
        x = student.extract_feat(inputs)
        losses, proposals = self.rpn_loss(student, x, samples)
        cls_instances = [s.gt_instances[s.gt_instances.scores
                                        > self.cls_pseudo_thr]
                         for s in samples]
        losses.update(self.rcnn_cls_loss(student, teacher, x, proposals,
                                         cls_instances, samples,
                                         teacher_feats))
        reg_instances = [s.gt_instances[s.gt_instances.reg_unc
                                        < self.reg_pseudo_thr]
                         for s in samples]
        losses['loss_bbox'] = self.rcnn_reg_loss(student, x, proposals,
                                                 reg_instances)
        n = len(samples)
        losses['num_pseudo_cls'] = x[0].new_tensor(
            sum(len(i) for i in cls_instances) / n)
        losses['num_pseudo_reg'] = x[0].new_tensor(
            sum(len(i) for i in reg_instances) / n)
        if self.adaptive_labeller:
            losses['num_pseudo_ignored'] = x[0].new_tensor(
                sum(len(s.ignored_instances) for s in samples) / n)
        return losses

    def rpn_loss(self, student, x, samples):
        rpn_samples = []
        for s in samples:
            gt = s.gt_instances
            inst = gt[(gt.scores > self.rpn_pseudo_thr)
                      & (box_weights(gt) >= 1)]
            rpn_inst = InstanceData(bboxes=inst.bboxes,
                                    labels=torch.zeros_like(inst.labels))
            s = copy.copy(s)
            s.gt_instances = rpn_inst
            rpn_samples.append(s)
        proposal_cfg = student.train_cfg.get('rpn_proposal',
                                             student.test_cfg.rpn)
        losses, proposals = student.rpn_head.loss_and_predict(
            x, rpn_samples, proposal_cfg=proposal_cfg)
        losses = {(k if 'rpn' in k else f'rpn_{k}'): v
                  for k, v in losses.items()}
        return losses, proposals

    @staticmethod
    def _sample(student, x, proposals, instances):
        roi_head = student.roi_head
        results = []
        for i, (props, gt) in enumerate(zip(proposals, instances)):
            priors = InstanceData(priors=props.bboxes)
            assign = roi_head.bbox_assigner.assign(priors, gt, None)
            results.append(roi_head.bbox_sampler.sample(
                assign, priors, gt, feats=[lvl[i][None] for lvl in x]))
        return results

    def rcnn_cls_loss(self, student, teacher, x, proposals, instances,
                      samples, teacher_feats) -> Dict:
        roi_head = student.roi_head
        bbox_head = roi_head.bbox_head
        sampling = self._sample(student, x, proposals, instances)
        rois = bbox2roi([s.priors for s in sampling])
        bbox_results = roi_head._bbox_forward(x, rois)
        labels, _, _, _ = bbox_head.get_targets(sampling,
                                                student.train_cfg.rcnn)
        with torch.no_grad():
            # only the negatives' probabilities enter eq. (3) (a positive is
            # weighted by its pseudo box), so the teacher scores those alone
            # float32 whatever the classifier's type: under --amp the
            # student's scores are float16, the teacher's softmax float32
            bg_prob = bbox_results['cls_score'].new_zeros(
                len(labels), dtype=torch.float32)
            bg_prob[labels == bbox_head.num_classes] = \
                self.teacher_background_prob(
                    teacher, [res.neg_priors for res in sampling], samples,
                    teacher_feats).float()
            bg_prob = bg_prob * ~self.in_ignore_region(sampling, samples)
            fg_weight = torch.cat([
                torch.cat([box_weights(inst)[res.pos_assigned_gt_inds],
                           res.neg_priors.new_zeros(len(res.neg_priors))])
                for res, inst in zip(sampling, instances)])
        losses = dict(loss_cls=soft_teacher_cls_loss(
            bbox_head.loss_cls, bbox_results['cls_score'], labels, bg_prob,
            bbox_head.num_classes, fg_weight))
        if roi_head.with_mask:
            mask_results = roi_head.mask_loss(
                x, sampling, bbox_results['bbox_feats'], instances)
            losses.update(mask_results['loss_mask'])
        return losses

    def in_ignore_region(self, sampling, samples) -> Tensor:
        """Per sampled RoI (positives, then negatives, per image): whether
        it is a negative whose IoU with an ignore region reaches
        ``ignore_iou_thr``."""
        out = []
        for res, s in zip(sampling, samples):
            flags = res.priors.new_zeros(len(res.priors), dtype=torch.bool)
            ignored = s.get('ignored_instances')
            if ignored is not None and len(ignored) and len(res.neg_priors):
                iou = bbox_overlaps(res.neg_priors,
                                    ignored.bboxes.to(res.neg_priors))
                flags[len(res.pos_priors):] = \
                    iou.max(1).values >= self.ignore_iou_thr
            out.append(flags)
        return torch.cat(out)

    @staticmethod
    def teacher_background_prob(teacher, boxes: List[Tensor], samples,
                                teacher_feats) -> Tensor:
        """``teacher``'s background probability of student-view boxes (one
        tensor per image), each mapped into the teacher's view (its
        features ``teacher_feats``); one RoI-head forward for the batch."""
        boxes = [
            project_boxes(b,
                          view_to_view(s.homography_matrix,
                                       s.teacher_homography_matrix),
                          s.teacher_img_shape)
            for b, s in zip(boxes, samples)
        ]
        roi_head = teacher.roi_head
        if roi_head.bbox_head.custom_cls_channels or \
                roi_head.bbox_head.loss_cls.use_sigmoid:
            raise NotImplementedError(
                'SoftTeacher needs a softmax classifier in the RoI head')
        rois = bbox2roi(boxes)
        if len(rois) == 0:
            return rois.new_zeros(0)
        cls_score = roi_head._bbox_forward(teacher_feats, rois)['cls_score']
        return cls_score.softmax(dim=-1)[:, -1]

    def rcnn_reg_loss(self, student, x, proposals, instances) -> Tensor:
        """RoI box loss on the confident-regression pseudo boxes, computed
        from the positive RoIs only (see the module docstring)."""
        roi_head = student.roi_head
        bbox_head = roi_head.bbox_head
        sampling = self._sample(student, x, proposals, instances)
        labels, _, bbox_targets, bbox_weights = bbox_head.get_targets(
            sampling, student.train_cfg.rcnn)
        pos = (labels >= 0) & (labels < bbox_head.num_classes)
        pos_rois = bbox2roi([s.pos_priors for s in sampling])
        if len(pos_rois) == 0:
            # keep the head in the graph (DDP) with a zero loss
            rois = bbox2roi([s.priors[:1] for s in sampling])
            return roi_head._bbox_forward(x, rois)['bbox_pred'].sum() * 0
        bbox_pred = roi_head._bbox_forward(x, pos_rois)['bbox_pred']
        bbox_pred = self._select_class(bbox_head, bbox_pred, labels[pos])
        if bbox_head.reg_decoded_bbox:
            bbox_pred = bbox_head.bbox_coder.decode(pos_rois[:, 1:],
                                                    bbox_pred)
        # a middle-tier pseudo box (dual thresholds) weighs its RoIs'
        # regression by its score, as their classification (methods.md §3)
        box_weight = torch.cat([box_weights(inst)[res.pos_assigned_gt_inds]
                                for res, inst in zip(sampling, instances)])
        # avg_factor: all sampled RoIs, as BBoxHead.loss
        return bbox_head.loss_bbox(bbox_pred, bbox_targets[pos],
                                   bbox_weights[pos] * box_weight[:, None],
                                   avg_factor=bbox_targets.size(0))
