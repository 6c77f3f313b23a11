"""The teacher–student core shared by every semi-supervised method.

A student learns from labelled data and from targets that a teacher -- here
an EMA of the student (:class:`~mmkd.teacher_student.ema.EMATeacherHook`) --
produces on unlabelled data.  One step, :meth:`TeacherStudentModel.loss`::

    L = w_sup · L_sup(student, sup)
      + w_unsup(t) · L_unsup(student, unsup_student,
                             to_student_view(pseudo_label(teacher, unsup_teacher)))

Subclasses (detection, segmentation, 3D) say only what is new in them:
``sup_loss``, ``pseudo_label``, ``to_student_view`` and ``unsup_loss``.
"""
import copy
from contextlib import nullcontext
from typing import Dict

import torch
from mmdet.models.utils import rename_loss_dict, reweight_loss_dict
from mmengine.logging import MessageHub
from mmengine.model import BaseModel

from mmkd.registry import MODELS, TASK_UTILS
from .batch_stats import batch_norm_statistics
from .ramps import sigmoid_rampup


TEACHER_NORMS = ('running', 'batch', 'batch_track')


def current_iter() -> int:
    """The runner's iteration (0 outside a runner)."""
    hub = MessageHub.get_current_instance()
    return int(hub.get_info('iter', 0) or 0)


class TeacherStudentModel(BaseModel):
    """Student + frozen teacher; the semi-supervised loss template.

    Args:
        student: config of the student model (any mmdet / mmseg / mmkd
            model with ``loss`` and ``predict`` modes).
        teacher: config of the teacher; default: a copy of the student (the
            EMA hook sets it to the student before the first iteration).
        pseudo_labeller: config of a pseudo-labeller (``TASK_UTILS``).
        sup_weight: ``w_sup``.
        unsup_weight: ``w_unsup`` after the ramp.
        unsup_rampup_iters: length ``T_r`` of the sigmoid ramp-up
            ``exp(−5 (1 − t/T_r)²)`` of ``w_unsup`` (0: none).
        predict_on: ``'teacher'`` or ``'student'`` for val / test.
        teacher_norm: the statistics the teacher's BatchNorm layers use
            when pseudo-labelling: ``'running'`` (default; the buffers the
            EMA hook gives it) or ``'batch'`` (the unlabelled weak-view
            batch's own, running buffers untouched) or ``'batch_track'``
            (the batch's own, and the running buffers track them with the
            layer's momentum -- what mmdet's train-mode teacher does; use it
            with ``EMATeacherHook(buffers='skip')`` so that validation
            normalises with weak-view statistics; see
            :func:`~mmkd.teacher_student.batch_stats.batch_norm_statistics`).
            Validation always uses the running statistics.
        data_preprocessor: applied to every branch (e.g. mmdet's
            ``MultiBranchDataPreprocessor``).

    The teacher never trains: its parameters do not require gradients and
    :meth:`train` keeps it in eval mode (mmdet's ``SemiBaseDetector`` puts it
    in eval once, after which ``runner.model.train()`` flips it back, so its
    BatchNorm statistics drift with every teacher forward).
    """

    def __init__(self, student, teacher=None, pseudo_labeller=None,
                 sup_weight=1.0, unsup_weight=1.0, unsup_rampup_iters=0,
                 predict_on='teacher', teacher_norm='running',
                 data_preprocessor=None, init_cfg=None):
        if predict_on not in ('teacher', 'student'):
            raise ValueError(f"predict_on must be 'teacher' or 'student', "
                             f'got {predict_on!r}')
        if teacher_norm not in TEACHER_NORMS:
            raise ValueError(f'teacher_norm must be one of {TEACHER_NORMS}, '
                             f'got {teacher_norm!r}')
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.student = MODELS.build(student)
        self.teacher = MODELS.build(teacher) if teacher is not None \
            else copy.deepcopy(self.student)
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        self.pseudo_labeller = TASK_UTILS.build(pseudo_labeller) \
            if pseudo_labeller is not None else None
        self.sup_weight = sup_weight
        self.unsup_weight = unsup_weight
        self.unsup_rampup_iters = unsup_rampup_iters
        self.teacher_norm = teacher_norm
        # the name and layout mmdet's TeacherStudentValLoop switches on
        self.semi_test_cfg = dict(predict_on=predict_on)

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()
        return self

    def unsup_weight_at(self, step: int) -> float:
        return self.unsup_weight * sigmoid_rampup(step,
                                                  self.unsup_rampup_iters)

    # -- the template -------------------------------------------------------
    def loss(self, inputs: Dict, data_samples: Dict) -> Dict:
        losses = rename_loss_dict(
            'sup_',
            reweight_loss_dict(
                self.sup_loss(inputs['sup'], data_samples['sup']),
                self.sup_weight))
        with torch.no_grad(), self.teacher_statistics():
            targets = self.pseudo_label(inputs['unsup_teacher'],
                                        data_samples['unsup_teacher'])
        targets = self.to_student_view(targets,
                                       data_samples['unsup_student'])
        unsup = self.unsup_loss(inputs['unsup_student'], targets)
        losses.update(
            rename_loss_dict(
                'unsup_',
                reweight_loss_dict(unsup,
                                   self.unsup_weight_at(current_iter()))))
        return losses

    def teacher_statistics(self):
        """Context for the teacher's pseudo-labelling forwards."""
        if self.teacher_norm == 'running':
            return nullcontext()
        return batch_norm_statistics(self.teacher,
                                     track=self.teacher_norm == 'batch_track')

    def sup_loss(self, inputs, data_samples) -> Dict:
        return self.student.loss(inputs, data_samples)

    def pseudo_label(self, inputs, data_samples):
        """Teacher targets for the teacher's view (no gradient)."""
        raise NotImplementedError

    def to_student_view(self, targets, student_samples):
        """Map teacher-view targets into the student's view."""
        raise NotImplementedError

    def unsup_loss(self, inputs, targets) -> Dict:
        raise NotImplementedError

    # -- inference ----------------------------------------------------------
    @property
    def predictor(self):
        return self.teacher if self.semi_test_cfg['predict_on'] == 'teacher' \
            else self.student

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        return self.predictor(inputs, data_samples, mode=mode)
