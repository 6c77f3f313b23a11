"""Dual Mean-Teacher on Soft Teacher (after DMT, Lin et al., NeurIPS 2023;
transferred to two-stage detection here)."""
import copy
from typing import Dict

import torch
from mmcv.ops import batched_nms
from mmengine.structures import InstanceData

from mmkd.registry import MODELS
from mmkd.teacher_student.dual_pairs import DUAL_TEACHERS, DualPairs

from .dual_consensus import consensus_boxes
from .soft_teacher import SoftTeacher


@MODELS.register_module()
class DualSoftTeacher(DualPairs, SoftTeacher):
    """Two Soft Teacher pairs supervised by their teachers' consensus.

    * ``teacher_a`` is the EMA of ``student_a`` only, ``teacher_b`` of
      ``student_b`` (one ``EMATeacherHook``); the pairs start from different
      initial checkpoints (checked to be one architecture and class list).
    * Both teachers detect on the weak view; per image their boxes with
      score ≥ δ are matched (same class, greedy by IoU), an image whose mean
      matched IoU (unmatched boxes count 0) is below τ is **rejected**
      (:class:`~mmkd.teacher_student.dual_pairs.DualPairs`' rule: no
      unsupervised loss; ``unsup_rejected``); matched pairs are fused
      (``fusion``: score-weighted mean or intersection) into the pseudo
      boxes, unmatched ones become ignore regions.  An adaptive
      pseudo-labeller (``DynamicDualThreshold``) then tiers the fused boxes.
    * Each student gets the Soft Teacher losses on the consensus, with the
      background weights and box-jitter uncertainty of **its own** teacher.
    * Test time: ``predict_on='ensemble'`` (default): both teachers' boxes,
      merged by class-wise NMS (IoU ``ensemble_iou``), at most the teacher's
      ``max_per_img``; or any member.

    Args:
        student_a / student_b: two-stage mmdet detector configs.
        delta, agreement_thr: δ and τ (0.5 and 0.5).
        fusion: ``'weighted_mean'`` or ``'intersection'``.
        match_iou: the consensus matches a pair of boxes only above this
            IoU (0.5; 4.5 % of the pairs the two demo teachers matched at
            IoU > 0 were at most 0.5, 2.1 % at most 0.1:
            ``tools/analysis_tools/dual_consensus_iou.py``).
        Others: :class:`SoftTeacher`.
    """

    def __init__(self, student_a, student_b, fusion='weighted_mean',
                 match_iou=0.5, ensemble_iou=0.5, **kwargs):
        super().__init__(student_a, student_b, **kwargs)
        self.fusion = fusion
        self.match_iou = match_iou
        self.ensemble_iou = ensemble_iou

    def labelled_teacher_scores(self, inputs, data_samples):
        """``threshold_scores='labelled'``: the matched boxes' scores of
        both teachers (a consensus box scores the mean of its pair's)."""
        scores, labels = zip(*(
            self.matched_scores(getattr(self, t), inputs, data_samples)
            for t in DUAL_TEACHERS))
        return torch.cat(scores), torch.cat(labels)

    def teacher_detections(self, teacher, inputs, data_samples):
        x = teacher.extract_feat(inputs)
        proposals = self.teacher_proposals(teacher, x, data_samples)
        return x, teacher.roi_head.predict(x, proposals, data_samples,
                                           rescale=False)

    def pseudo_label(self, inputs, data_samples):
        feats, results = {}, {}
        for teacher in DUAL_TEACHERS:
            feats[teacher], results[teacher] = self.teacher_detections(
                getattr(self, teacher), inputs, data_samples)
        kept, ignored, accepted = [], [], []
        for ra, rb in zip(results['teacher_a'], results['teacher_b']):
            fused, ignore, agreement = consensus_boxes(
                ra, rb, self.delta, self.fusion, self.match_iou)
            fused, tier_ignored = self.label_instances(fused)
            kept.append(fused)
            ignored.append(InstanceData(
                bboxes=torch.cat([ignore.bboxes, tier_ignored.bboxes]),
                labels=torch.cat([ignore.labels, tier_ignored.labels]),
                scores=torch.cat([ignore.scores, tier_ignored.scores])))
            accepted.append(self.accepts(agreement))
        for tag, _, teacher in self.pairs:  # own teacher's uncertainty
            for inst, unc in zip(kept, self.regression_uncertainty(
                    getattr(self, teacher), feats[teacher], kept,
                    data_samples)):
                setattr(inst, f'reg_unc_{tag}', unc)
        return self.as_targets(data_samples, kept, ignored), dict(
            teacher_feats=feats, accepted=accepted)

    def unsup_loss(self, inputs, samples, info) -> Dict:
        accepted = info['accepted']
        idx = [i for i, ok in enumerate(accepted) if ok]
        losses = dict(rejected=inputs.new_tensor(
            1 - len(idx) / max(len(accepted), 1)))
        if not idx:  # every image rejected: no unsupervised loss
            return losses
        inputs = inputs[idx]
        for tag, student, teacher in self.pairs:
            kept = []
            for i in idx:
                sample = copy.copy(samples[i])
                fields = dict(sample.gt_instances.items())
                # a new InstanceData: a shallow copy shares its field set
                sample.gt_instances = InstanceData(
                    **fields, reg_unc=fields[f'reg_unc_{tag}'])
                kept.append(sample)
            feats = tuple(f[idx] for f in info['teacher_feats'][teacher])
            pair_losses = self.pair_unsup_loss(
                getattr(self, student), getattr(self, teacher), inputs, kept,
                feats)
            losses.update({f'{tag}_{k}': v
                           for k, v in pair_losses.items()})
        return losses

    def predict_ensemble(self, name, inputs, data_samples):
        """Both teachers' detections (in original image coordinates),
        merged per class by NMS."""
        # mmdet's predict writes into the given samples and returns them:
        # keep each teacher's instances before the next one replaces them
        per_teacher = [
            [r.pred_instances for r in getattr(self, t).predict(
                inputs, data_samples)] for t in DUAL_TEACHERS]
        max_per_img = self.teacher_a.test_cfg.rcnn.get('max_per_img', 100)
        out = []
        for sample, pa, pb in zip(data_samples, *per_teacher):
            merged = InstanceData(
                bboxes=torch.cat([pa.bboxes, pb.bboxes]),
                scores=torch.cat([pa.scores, pb.scores]),
                labels=torch.cat([pa.labels, pb.labels]))
            if len(merged):
                _, keep = batched_nms(
                    merged.bboxes, merged.scores, merged.labels,
                    dict(type='mmkd_nms', iou_threshold=self.ensemble_iou))
                merged = merged[keep[:max_per_img]]
            sample.pred_instances = merged
            out.append(sample)
        return out
