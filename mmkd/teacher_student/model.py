"""The teacher–student core shared by every semi-supervised method.

Students learn from labelled data and from targets that teachers -- often an
EMA of a student (:class:`~mmkd.teacher_student.ema.EMATeacherHook`) --
produce on unlabelled data.  One step, :meth:`TeacherStudentModel.loss`::

    targets = pseudo_label(teachers, unsup_teacher)          # teacher view
    x_s, targets_s = to_student_view(targets, unsup_student)  # may mix x_s
    L = w_sup · L_sup(students, sup) + w_unsup(t) · L_unsup(x_s, targets_s)

Subclasses (detection, segmentation, 3D, each method) say only what is new
in them: ``pseudo_label``, ``to_student_view``, ``unsup_loss`` and, when
there is more than one student or the step is not this one, ``sup_loss`` /
``loss`` / ``ema_pairs``.  Members are named
(:mod:`~mmkd.teacher_student.members`); the single-pair default is
``student`` + ``teacher``.
"""
import copy
from contextlib import ExitStack
from typing import Dict, List, Sequence, Tuple

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapperDict

from mmkd.registry import MODELS, TASK_UTILS

from .batch_stats import batch_norm_statistics, frozen_running_statistics
from .feature_distillation import FeatureDistillation
from .frozen_teacher import load_teacher_checkpoint, teacher_model_cfg
from .members import normalise_members, plain_keys_to_members
from .ramps import sigmoid_rampup
from .wrapped_members import keep_member_keys_unwrapped

TEACHER_NORMS = ('running', 'batch', 'batch_track')
STUDENT_UNSUP_NORMS = ('batch_track', 'batch')
THRESHOLD_SCORES = ('unlabelled', 'labelled')


def current_iter() -> int:
    """The runner's iteration (0 outside a runner)."""
    hub = MessageHub.get_current_instance()
    return int(hub.get_info('iter', 0) or 0)


def weighted_losses(losses: Dict, weight: float, prefix: str = '') -> Dict:
    """``prefix``-named copy of ``losses`` whose ``loss*`` entries (tensors
    or lists of tensors) are multiplied by ``weight``; statistics (accuracy,
    counts) are kept as they are."""
    out = {}
    for key, value in losses.items():
        if 'loss' in key:
            value = [v * weight for v in value] if isinstance(
                value, (list, tuple)) else value * weight
        out[prefix + key] = value
    return out


class TeacherStudentModel(BaseModel):
    """Named students and frozen teachers; the semi-supervised loss template.

    Args:
        student / teacher: the single pair (``teacher`` defaults to a copy of
            ``student``, the EMA of it); checkpoint keys ``student.*`` and
            ``teacher.*``.
        students / teachers: named members instead, e.g.
            ``students=dict(a=cfg, b=cfg)``,
            ``teachers=dict(ta=dict(ema_of='a'), tb=dict(ema_of='b'))``
            (see :mod:`~mmkd.teacher_student.members`).
        pseudo_labeller: config of a pseudo-labeller (``TASK_UTILS``).
        sup_weight: ``w_sup``.
        unsup_weight: ``w_unsup`` after the ramp.
        unsup_rampup_iters: length ``T_r`` of the sigmoid ramp-up
            ``exp(−5 (1 − t/T_r)²)`` of ``w_unsup`` (0: none).
        predict_on: the member (or an ensemble the method defines,
            :attr:`ensembles`) that ``predict`` / test use (default: the
            first teacher); the validation loop evaluates every member.
        teacher_norm: the statistics every teacher's BatchNorm layers use
            while pseudo-labelling: ``'running'`` (its buffers), ``'batch'``
            (the weak-view batch's own, buffers untouched) or
            ``'batch_track'`` (the batch's own, and the buffers track them
            with the layer's momentum -- what mmdet's train-mode teacher
            does; the EMA hook must then not copy the student's buffers over
            them). Validation always uses the running statistics. See
            :func:`~mmkd.teacher_student.batch_stats.batch_norm_statistics`.
        student_unsup_norm: the students' BatchNorm layers in the
            unsupervised loss (layers in train mode normalise with the
            batch's statistics in both): ``'batch_track'`` (their running
            statistics also track the unlabelled student-view batches, as a
            plain forward does) or ``'batch'`` (the running statistics come
            from the labelled batches only: strong, mixed views then do not
            shift what the student -- and an EMA teacher that copies its
            buffers -- is evaluated with). See
            :func:`~mmkd.teacher_student.batch_stats.frozen_running_statistics`.
        threshold_scores: whose scores an adaptive pseudo-labeller learns
            its thresholds from: ``'labelled'`` (HSSDA's, the default: the
            teacher's predictions on the labelled batch that match its
            ground truth -- one more teacher forward) or ``'unlabelled'``
            (every teacher prediction on the unlabelled batch before it is
            thresholded; no extra forward, but the buffer then holds the
            teacher's low-score noise: τ_low fell to about 0.14 on the demo
            COCO).
        distill_losses: feature distillation from the first frozen
            (``model=``) teacher -- else the first teacher -- into the first
            student on the labelled batch
            (:class:`~mmkd.teacher_student.feature_distillation.FeatureDistillation`:
            ``name -> loss config`` with its ``inputs``).
        distill_weight: ``w_distill`` (``DistillWeightHook`` may schedule
            it).
        data_preprocessor: applied to every branch (e.g. mmdet's
            ``MultiBranchDataPreprocessor``).

    Teachers never train: their parameters do not require gradients and
    :meth:`train` keeps them in eval mode (mmdet's ``SemiBaseDetector`` puts
    its teacher in eval once, after which ``runner.model.train()`` flips it
    back).  A plain (non teacher-student) checkpoint given as ``load_from``
    initialises every member whose parameter names it has
    (:meth:`_load_from_state_dict`).

    Pseudo-label statistics: when ``keep_pseudo_labels`` is set (by
    :class:`~mmkd.engine.hooks.PseudoLabelStatsHook`), each step leaves its
    teacher-view images and targets in ``last_pseudo_labels``; the hook
    counts and draws them with the task's statistics
    (:meth:`pseudo_label_statistics`).
    """

    #: names, besides the members, that ``predict_on`` accepts (a method's
    #: ensembles, predicted by :meth:`predict_ensemble`)
    ensembles: Tuple[str, ...] = ()

    def __init__(self, student=None, teacher=None, students=None,
                 teachers=None, pseudo_labeller=None, sup_weight=1.0,
                 unsup_weight=1.0, unsup_rampup_iters=0,
                 predict_on=None, teacher_norm='running',
                 student_unsup_norm='batch_track',
                 threshold_scores='labelled', distill_losses=None,
                 distill_weight=1.0, data_preprocessor=None, init_cfg=None):
        if teacher_norm not in TEACHER_NORMS:
            raise ValueError(f'teacher_norm must be one of {TEACHER_NORMS}, '
                             f'got {teacher_norm!r}')
        if student_unsup_norm not in STUDENT_UNSUP_NORMS:
            raise ValueError('student_unsup_norm must be one of '
                             f'{STUDENT_UNSUP_NORMS}, got '
                             f'{student_unsup_norm!r}')
        if threshold_scores not in THRESHOLD_SCORES:
            raise ValueError('threshold_scores must be one of '
                             f'{THRESHOLD_SCORES}, got {threshold_scores!r}')
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        students, teachers = normalise_members(student, teacher, students,
                                               teachers)
        for name, cfg in students.items():
            setattr(self, name, MODELS.build(cfg))
        for name, spec in teachers.items():
            model = MODELS.build(teacher_model_cfg(spec['model'])) \
                if spec.get('model') \
                else copy.deepcopy(getattr(self, spec['ema_of']))
            if spec.get('checkpoint'):
                load_teacher_checkpoint(model, spec['checkpoint'])
            model.requires_grad_(False)
            model.eval()
            setattr(self, name, model)
        self.student_names: Tuple[str, ...] = tuple(students)
        self.teacher_names: Tuple[str, ...] = tuple(teachers)
        #: teacher name -> the student it is the EMA of
        self.ema_sources: Dict[str, str] = {
            t: s['ema_of'] for t, s in teachers.items() if s.get('ema_of')}
        if predict_on is None:  # the first teacher, else the first student
            predict_on = (self.teacher_names or self.student_names)[0]
        self.check_predictor(predict_on)
        self.predict_on = predict_on
        self.pseudo_labeller = TASK_UTILS.build(pseudo_labeller) \
            if pseudo_labeller is not None else None
        self.sup_weight = sup_weight
        self.unsup_weight = unsup_weight
        self.unsup_rampup_iters = unsup_rampup_iters
        self.teacher_norm = teacher_norm
        self.student_unsup_norm = student_unsup_norm
        self.threshold_scores = threshold_scores
        #: set by the statistics hook: each step leaves its teacher-view
        #: images and targets in ``last_pseudo_labels``
        self.keep_pseudo_labels = False
        self.last_pseudo_labels = None
        self.distill_weight = distill_weight
        self.distill_pair = None
        self.distill_losses = None
        if distill_losses:
            frozen = [t for t in self.teacher_names
                      if t not in self.ema_sources] or self.teacher_names
            self.distill_pair = (self.student_names[0], frozen[0])
            self.distill_losses = FeatureDistillation(
                distill_losses, *(getattr(self, n)
                                  for n in self.distill_pair))
        # the same checkpoint keys with members wrapped one by one (DDP)
        keep_member_keys_unwrapped(self)

    # -- members ------------------------------------------------------------
    @property
    def member_names(self) -> Tuple[str, ...]:
        return self.student_names + self.teacher_names

    def check_predictor(self, name):
        """Raise unless ``name`` is a member or an ensemble."""
        if name not in self.member_names + tuple(self.ensembles):
            raise ValueError(
                f'predict_on={name!r} is not a member or ensemble of '
                f'{type(self).__name__}: choose from '
                f'{list(self.member_names + tuple(self.ensembles))}')

    @property
    def evaluation_members(self) -> Tuple[str, ...]:
        """What the validation loop evaluates by default: teachers, then
        students, then the method's ensembles."""
        return self.teacher_names + self.student_names + tuple(self.ensembles)

    def ema_pairs(self) -> List[Tuple[str, str]]:
        """``(student, teacher)`` names the EMA hook updates after this step
        (default: every EMA teacher; a method that trains one group per
        step returns that group's)."""
        return [(s, t) for t, s in self.ema_sources.items()]

    def trained_students(self) -> List[str]:
        """The students whose optimisers step this iteration when each has
        its own (every student by default; RAIL: the active group's)."""
        return list(self.student_names)

    def train(self, mode: bool = True):
        super().train(mode)
        for name in self.teacher_names:
            getattr(self, name).eval()
        return self

    def teacher_statistics(self):
        """Context for the teachers' pseudo-labelling forwards: every
        teacher's BatchNorm layers use the statistics ``teacher_norm``
        names."""
        stack = ExitStack()
        if self.teacher_norm != 'running':
            for name in self.teacher_names:
                stack.enter_context(batch_norm_statistics(
                    getattr(self, name),
                    track=self.teacher_norm == 'batch_track'))
        return stack

    def student_unsup_statistics(self):
        """Context for the students' forwards in the unsupervised loss:
        their BatchNorm running statistics as ``student_unsup_norm``
        says."""
        stack = ExitStack()
        if self.student_unsup_norm == 'batch':
            for name in self.student_names:
                stack.enter_context(
                    frozen_running_statistics(getattr(self, name)))
        return stack

    def unsup_weight_at(self, step: int) -> float:
        return self.unsup_weight * sigmoid_rampup(step,
                                                  self.unsup_rampup_iters)

    # -- adaptive pseudo-labellers --------------------------------------------
    @property
    def adaptive_labeller(self) -> bool:
        """Whether the pseudo-labeller learns from the teacher's scores
        (:class:`~mmkd.teacher_student.pseudo_label.PseudoLabeller`)."""
        return getattr(self.pseudo_labeller, 'adaptive', False)

    def check_labeller_classes(self, num_classes: int):
        """Raise when an adaptive labeller counts other classes than the
        student's head."""
        n = getattr(self.pseudo_labeller, 'num_classes', None)
        if n is not None and n != num_classes:
            raise ValueError(
                f'pseudo_labeller.num_classes={n} but the student predicts '
                f'{num_classes} classes: set the labeller\'s num_classes to '
                f'{num_classes}')

    def observe_unlabelled_scores(self, scores, labels):
        """Called by ``pseudo_label`` with the teacher's predictions before
        they are thresholded; kept when ``threshold_scores='unlabelled'``."""
        if self.adaptive_labeller and self.threshold_scores == 'unlabelled':
            self.pseudo_labeller.observe(scores, labels)

    def labelled_teacher_scores(self, inputs, data_samples):
        """``(scores, labels)`` of the teacher's predictions on a labelled
        batch that match its ground truth (``threshold_scores='labelled'``)."""
        raise NotImplementedError(f'{type(self).__name__} cannot score the '
                                  'labelled batch (threshold_scores)')

    def update_pseudo_labeller(self, inputs: Dict, data_samples: Dict):
        """Before pseudo-labelling: feed an adaptive labeller the labelled
        batch's scores (if it learns from them) and let it recompute its
        thresholds when due."""
        if not self.adaptive_labeller:
            return
        if self.threshold_scores == 'labelled':
            with torch.no_grad():
                self.pseudo_labeller.observe(*self.labelled_teacher_scores(
                    inputs['sup'], data_samples['sup']))
        self.pseudo_labeller.maybe_update(current_iter())

    # -- the template -------------------------------------------------------
    def train_step(self, data, optim_wrapper) -> Dict[str, torch.Tensor]:
        """mmengine's step with one optimiser.  With one per student (an
        ``OptimWrapperDict`` keyed by student,
        :class:`~mmkd.engine.MemberOptimWrapperConstructor`, as GAN training
        does it with mmengine), each of :meth:`trained_students` steps on
        the sum of its own terms, the ``loss`` keys that start with
        ``'<student>.'``."""
        if not isinstance(optim_wrapper, OptimWrapperDict):
            return super().train_step(data, optim_wrapper)
        names = self.trained_students()
        with optim_wrapper[names[0]].optim_context(self):
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(data, mode='loss')
        for name in names:
            optim_wrapper[name].update_params(sum(
                value for key, value in losses.items()
                if key.startswith(name + '.') and 'loss' in key))
        _, log_vars = self.parse_losses(losses)
        return log_vars

    def loss(self, inputs: Dict, data_samples: Dict) -> Dict:
        if not isinstance(inputs, dict):  # a labelled batch: distillation
            return self.labelled_loss(inputs, data_samples)
        losses = self.labelled_loss(inputs['sup'], data_samples['sup'],
                                    'sup_')
        student_inputs, targets, info = self.student_targets(inputs,
                                                             data_samples)
        with self.student_unsup_statistics():
            unsup = self.unsup_loss(student_inputs, targets, info)
        losses.update(weighted_losses(
            unsup, self.unsup_weight_at(current_iter()), 'unsup_'))
        return losses

    def labelled_loss(self, inputs, data_samples, prefix='') -> Dict:
        """``w_sup · L_sup`` (keys ``prefix``-named) and, with
        ``distill_losses``, the distillation terms of the frozen teacher
        and the student on this batch (recorded during both forwards)."""
        if self.distill_losses is None:
            return weighted_losses(self.sup_loss(inputs, data_samples),
                                   self.sup_weight, prefix)
        with self.distill_losses.recording():
            self.distill_losses.run_teacher(
                getattr(self, self.distill_pair[1]), inputs, data_samples)
            sup = self.sup_loss(inputs, data_samples)
        task, _ = self.parse_losses(sup)
        losses = weighted_losses(sup, self.sup_weight, prefix)
        losses.update(self.distill_losses.losses(self.distill_weight, task))
        return losses

    def student_targets(self, inputs: Dict, data_samples: Dict):
        """The teachers' targets on the ``unsup_teacher`` branch (no
        gradient; recorded for the statistics hook), moved into the
        student's view: ``(student_inputs, targets, info)``."""
        self.update_pseudo_labeller(inputs, data_samples)
        with torch.no_grad(), self.teacher_statistics():
            targets, info = self.pseudo_label(inputs['unsup_teacher'],
                                              data_samples['unsup_teacher'])
        if self.keep_pseudo_labels:
            self.last_pseudo_labels = (inputs['unsup_teacher'].detach(),
                                       targets)
        student_inputs, targets = self.to_student_view(
            targets, inputs['unsup_student'], data_samples['unsup_student'])
        return student_inputs, targets, info

    def sup_loss(self, inputs, data_samples) -> Dict:
        return getattr(self, self.student_names[0]).loss(inputs, data_samples)

    def pseudo_label(self, inputs, data_samples) -> Tuple[Sequence, Dict]:
        """Teacher targets in the teacher's view (no gradient): the task's
        data samples (mmdet / mmseg / 3D) holding the pseudo-labels with
        their weights and ignore regions, and a dict of whatever else
        ``unsup_loss`` needs from the teachers (e.g. their features)."""
        raise NotImplementedError(
            f'{type(self).__name__} must implement pseudo_label')

    def to_student_view(self, targets, inputs, data_samples):
        """``(inputs, targets)`` of the student: the targets moved into the
        student's view -- and, for a method that mixes images (CutMix), the
        inputs and targets mixed by one draw."""
        raise NotImplementedError(
            f'{type(self).__name__} must implement to_student_view')

    def unsup_loss(self, inputs, targets, info) -> Dict:
        raise NotImplementedError(
            f'{type(self).__name__} must implement unsup_loss')

    # -- pseudo-label statistics (the task says how) -------------------------
    def pseudo_label_statistics(self) -> Dict:
        """Config (``TASK_UTILS``) of what counts and draws this model's
        pseudo-labels for ``PseudoLabelStatsHook``."""
        raise TypeError(f'{type(self).__name__} has no pseudo-label '
                        'statistics')

    # -- inference ----------------------------------------------------------
    def predict_ensemble(self, name, inputs, data_samples):
        raise NotImplementedError(f'{type(self).__name__} defines no '
                                  f'ensemble {name!r}')

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if self.predict_on in self.ensembles:
            if mode != 'predict':
                raise ValueError(
                    f'{self.predict_on!r} is an ensemble: it predicts '
                    f"(mode='predict'), it has no {mode!r} output")
            return self.predict_ensemble(self.predict_on, inputs,
                                         data_samples)
        return getattr(self, self.predict_on)(inputs, data_samples,
                                              mode=mode)

    # -- checkpoints --------------------------------------------------------
    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        """A plain model's checkpoint initialises every member
        (:func:`~mmkd.teacher_student.members.plain_keys_to_members`)."""
        plain_keys_to_members(state_dict, prefix, {
            name: getattr(self, name) for name in self.member_names})
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)
