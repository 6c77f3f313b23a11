"""Mean teacher for 3D segmentation (Tarvainen & Valpola, NeurIPS 2017), in
the form of the semi-supervised medical code bases' baseline (UA-MT without
the uncertainty mask): the RAIL comparison's single-teacher row.

    L = CE + Dice (labelled) + w(t) · mean_{u,c,vox} (p_S(x_u) − p_T(x_u + ε))²

with ``ε`` Gaussian noise clipped to ``±noise_clip`` on the teacher's copy
of the unlabelled patch; ``T`` is the EMA of ``S`` (``EMATeacherHook``).
"""
from typing import Dict

import torch

from mmkd.registry import MODELS
from mmkd.teacher_student.model import TeacherStudentModel


@MODELS.register_module()
class VolumeMeanTeacher(TeacherStudentModel):
    """Args:
        student: a :class:`~mmkd.volumetric.VolumeSegmentor` config (its
            ``loss`` is the supervised term; its sliding-window ``predict``
            serves teacher and student at test time).
        noise_std / noise_clip: the teacher input's noise (UA-MT: 0.1, 0.2).
        unsup_weight / unsup_rampup_iters: ``w(t)``, a sigmoid ramp
            (UA-MT: 0.1 over its 40 first "epochs").
    Branches: ``sup``, ``unsup_teacher`` and ``unsup_student`` (the same
    unlabelled patch).
    """

    def __init__(self, student, noise_std=0.1, noise_clip=0.2, **kwargs):
        super().__init__(student=student, **kwargs)
        self.noise_std = noise_std
        self.noise_clip = noise_clip

    def pseudo_label(self, inputs, data_samples):
        x = torch.stack(list(inputs))
        noise = (torch.randn_like(x) * self.noise_std).clamp(
            -self.noise_clip, self.noise_clip)
        return self.teacher.backbone(x + noise).softmax(1), {}

    def to_student_view(self, targets, inputs, data_samples):
        return torch.stack(list(inputs)), targets

    def unsup_loss(self, inputs, targets, info) -> Dict:
        probs = self.student.backbone(inputs).softmax(1)
        return dict(loss_consistency=((probs - targets)**2).mean())
