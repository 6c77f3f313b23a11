"""Semi-supervised semantic segmentation on the teacher–student core: an
mmseg ``EncoderDecoder`` student, its EMA teacher, per-pixel pseudo-labels
(mmseg ``SegDataSample`` s) and CutMix in the student's view."""
import copy
from typing import Dict

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from mmkd.registry import MODELS
from mmkd.teacher_student.model import TeacherStudentModel
from mmkd.teacher_student.views import cut_mix, view_to_view, warp_maps


def weighted_pixel_ce(logits, labels, weights, ignore_index=255):
    """``Σ w·CE / #(labels ≠ ignore)``: per-pixel cross-entropy of the
    pseudo-labels, each pixel weighted by its pseudo-label weight, averaged
    over the pixels that are not ignored (0, never NaN, when all are)."""
    valid = labels != ignore_index
    ce = F.cross_entropy(logits, labels.masked_fill(~valid, 0),
                         reduction='none')
    return (ce * weights * valid).sum() / valid.sum().clamp(min=1)


@MODELS.register_module()
class SemiSegmentor(TeacherStudentModel):
    """Mean teacher for semantic segmentation (Tarvainen & Valpola, 2017;
    with CutMix between unlabelled images in the student's view, French et
    al., 2020, as UniMatch and U2PL).

    Teacher, on the weak view: softmax probabilities ``P`` at the input
    size; the pseudo-labeller turns them into a label map with
    ``ignore_index`` where the teacher is not confident (default
    ``FixedThreshold(0.95)``) and, if it gives them, per-pixel weights
    (default 1).  Targets are ``SegDataSample`` s of the teacher's view:
    ``gt_sem_seg`` (pseudo-labels), ``pseudo_weight`` and ``pseudo_score``
    (the top probability).  Student, on the strong view: the targets moved
    into its view (through the recorded homographies when the views carry
    them; identical geometry otherwise, the usual weak/strong pair), then
    images, labels and weights mixed by one CutMix draw (probability
    ``cutmix_prob``); loss ``Σ w·CE / #valid`` of the decode head's logits.

    Feature perturbation (UniMatch, Yang et al., CVPR 2023), optional: the
    student also segments the *weak* view with channel dropout (rate
    ``feature_dropout``) on every encoder feature map before its decode head,
    against the same pseudo-labels in the teacher's view; the unsupervised
    loss is then ``(1 − β) L_strong + β L_fp`` with ``β =
    feature_dropout_weight`` (UniMatch: 0.5 / 0.5)::

        L_fp = Σ w·CE(g(Dropout2d(f(x_weak))), ŷ) / #valid

    Args:
        student: an mmseg segmentor config (``EncoderDecoder``).
        cutmix_prob: probability that a batch is mixed (0: never).
        ignore_index: the label of ignored pixels (255).
        feature_dropout: channel dropout rate of the feature-perturbation
            branch (0: no such branch).
        feature_dropout_weight: its share ``β`` of the unsupervised loss.
        Others: :class:`~mmkd.teacher_student.TeacherStudentModel`.

    Pseudo-label statistics (``PseudoLabelStatsHook``):
    :class:`~mmkd.segmentation.MapPseudoLabelStatistics`.
    """

    def __init__(self, *args, cutmix_prob=1.0, ignore_index=255,
                 feature_dropout=0.0, feature_dropout_weight=0.5, **kwargs):
        kwargs.setdefault('pseudo_labeller',
                          dict(type='mmkd.FixedThreshold', score_thr=0.95))
        super().__init__(*args, **kwargs)
        if not (0 <= feature_dropout < 1
                and 0 <= feature_dropout_weight <= 1):
            raise ValueError('feature_dropout must be in [0, 1) and '
                             'feature_dropout_weight in [0, 1], got '
                             f'{feature_dropout} and {feature_dropout_weight}')
        self.cutmix_prob = cutmix_prob
        self.ignore_index = ignore_index
        self.feature_dropout = feature_dropout
        self.feature_dropout_weight = feature_dropout_weight
        self.check_labeller_classes(
            getattr(self, self.student_names[0]).decode_head.num_classes)

    # -- teacher ------------------------------------------------------------
    def member_logits(self, name, inputs, feature_dropout=0.0):
        """Decode-head logits of member ``name`` at the (padded) batch size
        -- mmseg's ``encode_decode`` resizes to the first image's unpadded
        shape, which misaligns the others when an image is smaller than the
        crop; with ``feature_dropout``, channel dropout on every encoder
        feature map before the decode head."""
        model = getattr(self, name)
        feats = model.extract_feat(inputs)
        if feature_dropout:
            feats = [F.dropout2d(f, feature_dropout, training=True)
                     for f in feats]
        logits = model.decode_head(feats)
        return F.interpolate(logits, inputs.shape[-2:], mode='bilinear',
                             align_corners=model.align_corners)

    def teacher_probs(self, inputs, name=None):
        """Softmax of a teacher (default: the first) at the batch size."""
        return self.member_logits(name or self.teacher_names[0],
                                  inputs).softmax(1)

    @staticmethod
    def padding_masks(probs, data_samples):
        """``(B, H, W)``: True on the batch padding of each image."""
        padded = torch.ones_like(probs[:, 0], dtype=torch.bool)
        for pad, sample in zip(padded, data_samples):
            h, w = sample.img_shape[:2]
            pad[:h, :w] = False
        return padded

    def pseudo_label(self, inputs, data_samples):
        probs = self.teacher_probs(inputs)
        padded = self.padding_masks(probs, data_samples)
        score, label = probs.max(1)
        self.observe_unlabelled_scores(score[~padded], label[~padded])
        targets = []
        for sample, prob, top_score, pad in zip(data_samples, probs, score,
                                                padded):
            label, weight = self.pseudo_labeller(prob)
            # padding is not image: never a pseudo-label
            label = label.masked_fill(pad, self.ignore_index)
            weight = weight.masked_fill(pad, 0.0)
            targets.append(self.pseudo_target(sample, label, weight,
                                              top_score))
        return targets, self.weak_view_info(inputs, targets)

    def weak_view_info(self, inputs, targets) -> Dict:
        """What the feature-perturbation branch needs from the teacher's
        step: the weak view and its targets (empty when the branch is
        off)."""
        if not self.feature_dropout:
            return {}
        return dict(weak_inputs=inputs, weak_targets=targets)

    @staticmethod
    def label_maps(targets):
        """``(labels, weights)``: the targets' pseudo-label maps and their
        per-pixel weights, stacked ``(B, H, W)``."""
        return (torch.stack([t.gt_sem_seg.data[0] for t in targets]),
                torch.stack([t.pseudo_weight.data[0] for t in targets]))

    @staticmethod
    def pseudo_target(sample, label, weight, score):
        """A teacher-view target: a copy of ``sample`` with the pseudo-label
        map, its per-pixel weights and the teacher's top probability (the
        sample's own labels, if loaded, kept as hidden ground truth for the
        statistics only)."""
        target = copy.copy(sample)
        if 'gt_sem_seg' in sample:
            target.hidden_sem_seg = sample.gt_sem_seg
        target.gt_sem_seg = PixelData(data=label[None])
        target.pseudo_weight = PixelData(data=weight[None])
        target.pseudo_score = PixelData(data=score[None])
        return target

    def labelled_teacher_scores(self, inputs, data_samples):
        """The teacher's top probability at the labelled pixels it predicts
        right, with their classes (HSSDA's scores of matched predictions)."""
        return self.right_pixel_scores(self.teacher_probs(inputs),
                                       data_samples)

    @staticmethod
    def right_pixel_scores(probs, data_samples):
        """``(scores, classes)`` of the pixels where the arg-max of
        ``probs`` (B, C, H, W) is the ground-truth class."""
        score, pred = probs.max(1)
        gt = torch.stack([s.gt_sem_seg.data[0] for s in data_samples]) \
            .to(pred.device)
        right = pred == gt
        return score[right], gt[right]

    # -- teacher view -> student view -------------------------------------
    def to_student_view(self, targets, inputs, data_samples):
        labels, weights = [], []
        for target, sample in zip(targets, data_samples):
            label = target.gt_sem_seg.data[0]
            weight = target.pseudo_weight.data[0]
            if 'homography_matrix' in target and \
                    'homography_matrix' in sample:
                matrix = view_to_view(target.homography_matrix,
                                      sample.homography_matrix)
                shape = inputs.shape[-2:]
                label = warp_maps(label, matrix, shape, self.ignore_index)
                weight = warp_maps(weight, matrix, shape, 0.0)
            labels.append(label)
            weights.append(weight)
        labels, weights = torch.stack(labels), torch.stack(weights)
        if self.cutmix_prob > 0 and torch.rand(1).item() < self.cutmix_prob:
            inputs, labels, weights = cut_mix(inputs, labels, weights)
        out = []
        for sample, label, weight in zip(data_samples, labels, weights):
            sample = copy.copy(sample)
            sample.gt_sem_seg = PixelData(data=label[None])
            sample.pseudo_weight = PixelData(data=weight[None])
            out.append(sample)
        return inputs, out

    # -- student ------------------------------------------------------------
    def unsup_loss(self, inputs, targets, info) -> Dict:
        labels, weights = self.label_maps(targets)
        valid = (labels != self.ignore_index).float().mean()
        name = self.student_names[0]
        losses = self.with_feature_perturbation(
            dict(loss_seg=self.pseudo_label_loss(name, inputs, labels,
                                                 weights)), name, info)
        losses['pseudo_coverage'] = valid.detach()
        return losses

    def pseudo_label_loss(self, name, inputs, labels, weights,
                          feature_dropout=0.0):
        """Student ``name``'s ``Σ w·CE / #valid`` on the pseudo-labels."""
        return weighted_pixel_ce(
            self.member_logits(name, inputs, feature_dropout), labels,
            weights, self.ignore_index)

    def with_feature_perturbation(self, losses: Dict, name: str,
                                  info: Dict, prefix: str = '') -> Dict:
        """``losses[prefix + 'loss_seg']`` (the strong view's) scaled by
        ``1 − β``, and ``β L_fp`` of student ``name`` added as
        ``prefix + 'loss_seg_fp'``; ``losses`` as given when the branch is
        off."""
        if not self.feature_dropout:
            return losses
        beta = self.feature_dropout_weight
        losses[prefix + 'loss_seg'] = (1 - beta) * losses[prefix + 'loss_seg']
        losses[prefix + 'loss_seg_fp'] = beta * self.pseudo_label_loss(
            name, info['weak_inputs'], *self.label_maps(info['weak_targets']),
            feature_dropout=self.feature_dropout)
        return losses

    # -- statistics ---------------------------------------------------------
    def pseudo_label_statistics(self) -> Dict:
        """What ``PseudoLabelStatsHook`` counts and draws: label maps."""
        return dict(type='mmkd.MapPseudoLabelStatistics',
                    ignore_index=self.ignore_index)
