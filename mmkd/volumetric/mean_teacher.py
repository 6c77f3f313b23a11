"""Mean teacher for 3D segmentation (Tarvainen & Valpola, NeurIPS 2017), in
the form of the semi-supervised medical code bases' baseline (UA-MT without
the uncertainty mask): the RAIL comparison's single-teacher row.

    L = CE + Dice (labelled) + w(t) · mean_{u,c,vox} (p_S(x_u) − p_T(x_u + ε))²

with ``ε`` Gaussian noise clipped to ``±noise_clip`` on the teacher's copy
of the unlabelled patch; ``T`` is the EMA of ``S`` (``EMATeacherHook``).

The student predicts the labelled and unlabelled patches in one forward,
as UA-MT's code does (its BatchNorm statistics are those of both): with
one labelled + one unlabelled patch a step, two separate forwards of one
patch each were 3.9× slower than the supervised V-Net's step on two
patches (PyTorch sends a one-patch 3D convolution of the demo's size to
its slow CPU kernel).  ``joint_forward=False`` keeps the template's two.
"""
from typing import Dict

import torch

from mmkd.registry import MODELS
from mmkd.teacher_student.model import (
    TeacherStudentModel,
    current_iter,
    weighted_losses,
)


@MODELS.register_module()
class VolumeMeanTeacher(TeacherStudentModel):
    """Args:
        student: a :class:`~mmkd.volumetric.VolumeSegmentor` config (its
            ``loss`` is the supervised term; its sliding-window ``predict``
            serves teacher and student at test time).
        noise_std / noise_clip: the teacher input's noise (UA-MT: 0.1, 0.2).
        unsup_weight / unsup_rampup_iters: ``w(t)``, a sigmoid ramp
            (UA-MT: 0.1 over its 40 first "epochs").
        joint_forward: one student forward for the labelled and unlabelled
            patches (default) instead of one per branch (its BatchNorm
            statistics are those of both: ``student_unsup_norm='batch'``
            needs ``joint_forward=False``).
    Branches: ``sup``, ``unsup_teacher`` and ``unsup_student`` (the same
    unlabelled patch).
    """

    def __init__(self, student, noise_std=0.1, noise_clip=0.2,
                 joint_forward=True, **kwargs):
        super().__init__(student=student, **kwargs)
        if joint_forward and self.student_unsup_norm != 'batch_track':
            raise ValueError(
                "student_unsup_norm='batch' needs joint_forward=False (one "
                'forward of both branches has one set of statistics)')
        self.noise_std = noise_std
        self.noise_clip = noise_clip
        self.joint_forward = joint_forward

    def loss(self, inputs: Dict, data_samples: Dict) -> Dict:
        """The template's step; with ``joint_forward`` its two student
        forwards made one (the template's targets, the segmentor's own loss
        on the labelled logits)."""
        if not self.joint_forward:
            return super().loss(inputs, data_samples)
        x_u, targets, _ = self.student_targets(inputs, data_samples)
        x_l = torch.stack(list(inputs['sup']))
        logits = self.student(torch.cat([x_l, x_u]))
        n = len(x_l)
        losses = weighted_losses(
            self.student.loss_by_logits(logits[:n], data_samples['sup']),
            self.sup_weight, 'sup_')
        losses.update(weighted_losses(
            self.consistency_loss(logits[n:], targets),
            self.unsup_weight_at(current_iter()), 'unsup_'))
        return losses

    def pseudo_label(self, inputs, data_samples):
        x = torch.stack(list(inputs))
        noise = (torch.randn_like(x) * self.noise_std).clamp(
            -self.noise_clip, self.noise_clip)
        return self.teacher(x + noise).softmax(1), {}

    def to_student_view(self, targets, inputs, data_samples):
        return torch.stack(list(inputs)), targets

    def unsup_loss(self, inputs, targets, info) -> Dict:
        return self.consistency_loss(self.student(inputs), targets)

    @staticmethod
    def consistency_loss(logits, targets) -> Dict:
        return dict(loss_consistency=((logits.softmax(1) - targets)**2).mean())
