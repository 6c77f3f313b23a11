"""Dual Mean-Teacher for semantic segmentation (after DMT, Lin et al.,
"Dual Mean-Teacher: An Unbiased Semi-Supervised Framework for Audio-Visual
Source Localization", NeurIPS 2023; transferred to segmentation here)."""
from typing import Dict

import torch

from mmkd.registry import MODELS
from mmkd.teacher_student.dual_pairs import DUAL_TEACHERS, DualPairs

from .dual_consensus import consensus_labels
from .semi_segmentor import SemiSegmentor


@MODELS.register_module()
class DualMeanTeacherSegmentor(DualPairs, SemiSegmentor):
    """Two teacher–student pairs; both teachers label every unlabelled crop.

    * Each teacher is the EMA of its own student (``teacher_a`` of
      ``student_a``, ``teacher_b`` of ``student_b``; one ``EMATeacherHook``
      updates both); the pairs start from different initialisations
      (e.g. two supervised checkpoints of different seeds).
    * **Agreement filter** (:class:`~mmkd.teacher_student.dual_pairs.
      DualPairs`' rule): each teacher's softmax binarised at δ
      (``delta``); an unlabelled crop whose class-map agreement (mean IoU
      over present classes, :func:`~.dual_consensus.class_map_agreement`) is
      below ``agreement_thr`` (τ) is rejected -- all its pixels ignored, no
      unsupervised loss; ``unsup_rejected`` logs the share.
    * **Consensus**: a pixel gets class c only where both teachers predict
      c with confidence ≥ δ, else ``ignore_index``; the same consensus (one
      CutMix draw) supervises both students.  With an adaptive
      pseudo-labeller (``DynamicDualThreshold``) its tiers apply to the
      teachers' mean softmax on top: weights from its tiers, ignored below
      τ_low or where it disagrees with the consensus.
    * **Test time**: ``predict_on='ensemble'`` (default) -- the mean of the
      two teachers' softmax maps; or any member.

    Args:
        student_a / student_b: mmseg segmentor configs (same classes).
        delta, agreement_thr: δ and τ (0.5 and 0.5).
        Others: :class:`SemiSegmentor`.
    """

    def __init__(self, student_a, student_b, **kwargs):
        kwargs.setdefault('pseudo_labeller', None)
        super().__init__(student_a, student_b, **kwargs)
        classes = [getattr(self, pair.student).decode_head.num_classes
                   for pair in self.pairs]
        if classes[0] != classes[1]:
            raise ValueError(f'student_a predicts {classes[0]} classes, '
                             f'student_b {classes[1]}')

    def labelled_teacher_scores(self, inputs, data_samples):
        """``threshold_scores='labelled'``: the scores of the two teachers'
        mean softmax map -- the map the labeller's tiers apply to -- at the
        labelled pixels it predicts right."""
        mean = sum(self.teacher_probs(inputs, t) for t in DUAL_TEACHERS) / 2
        return self.right_pixel_scores(mean, data_samples)

    def pseudo_label(self, inputs, data_samples):
        probs_a = self.teacher_probs(inputs, 'teacher_a')
        probs_b = self.teacher_probs(inputs, 'teacher_b')
        mean = (probs_a + probs_b) / 2
        padded = self.padding_masks(mean, data_samples)
        score, label = mean.max(1)
        self.observe_unlabelled_scores(score[~padded], label[~padded])
        targets, rejected = [], 0
        for i, sample in enumerate(data_samples):
            label, agreement = consensus_labels(probs_a[i], probs_b[i],
                                                self.delta, self.ignore_index,
                                                valid=~padded[i])
            weight = torch.ones_like(score[i])
            if self.pseudo_labeller is not None:
                tier_label, weight = self.pseudo_labeller(mean[i])
                label = label.masked_fill(tier_label != label,
                                          self.ignore_index)
            if not self.accepts(agreement):
                label = torch.full_like(label, self.ignore_index)
                rejected += 1
            label = label.masked_fill(padded[i], self.ignore_index)
            weight = weight.masked_fill(label == self.ignore_index, 0.0)
            targets.append(self.pseudo_target(sample, label, weight,
                                              score[i]))
        info = self.weak_view_info(inputs, targets)
        info['rejected'] = rejected / max(len(data_samples), 1)
        return targets, info

    def unsup_loss(self, inputs, targets, info) -> Dict:
        labels, weights = self.label_maps(targets)
        losses = {}
        for pair in self.pairs:
            student = pair.student
            losses[f'{pair.tag}_loss_seg'] = self.pseudo_label_loss(
                student, inputs, labels, weights)
            losses = self.with_feature_perturbation(losses, student, info,
                                                    f'{pair.tag}_')
        losses['rejected'] = labels.new_tensor(info['rejected'],
                                               dtype=torch.float32)
        losses['pseudo_coverage'] = (labels != self.ignore_index).float() \
            .mean().detach()
        return losses

    def predict_ensemble(self, name, inputs, data_samples):
        """The mean of the two teachers' softmax maps (mmseg's inference:
        whole image or sliding window, as their ``test_cfg``)."""
        metas = [s.metainfo for s in data_samples]
        probs = sum(getattr(self, t).inference(inputs, metas).softmax(1)
                    for t in DUAL_TEACHERS) / 2
        return self.teacher_a.postprocess_result(probs, data_samples)
