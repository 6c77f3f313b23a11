"""Dual Mean-Teacher's two teacher-student pairs, for any task: their member
names, the core's member arguments, the supervised loss of both students
and the agreement rule (:class:`DualPairs`, which the segmentation and
detection methods share)."""
from typing import Dict, NamedTuple

from .members import check_pair_checkpoints


class Pair(NamedTuple):
    """One teacher-student pair: ``tag`` prefixes its losses (``a_...``)."""
    tag: str
    student: str
    teacher: str


DUAL_PAIRS = (Pair('a', 'student_a', 'teacher_a'),
              Pair('b', 'student_b', 'teacher_b'))
DUAL_TEACHERS = tuple(pair.teacher for pair in DUAL_PAIRS)


def dual_pair_members(owner: str, student_a, student_b, kwargs) -> Dict:
    """``students`` / ``teachers`` of the two pairs (each teacher the EMA of
    its own student), after checking that the two initial checkpoints are
    one architecture and class list; ``kwargs`` must not name members."""
    for key in ('student', 'teacher', 'students', 'teachers'):
        if key in kwargs:
            raise ValueError(f'{owner} names its members itself: give '
                             f'student_a / student_b, not {key}')
    check_pair_checkpoints(student_a.get('init_cfg'),
                           student_b.get('init_cfg'))
    return dict(students=dict(student_a=student_a, student_b=student_b),
                teachers=dict(teacher_a=dict(ema_of='student_a'),
                              teacher_b=dict(ema_of='student_b')))


def dual_sup_losses(model, inputs, data_samples) -> Dict:
    """Both students' supervised losses, keys prefixed ``a_`` / ``b_``."""
    losses = {}
    for pair in DUAL_PAIRS:
        student = getattr(model, pair.student)
        for key, value in student.loss(inputs, data_samples).items():
            losses[f'{pair.tag}_{key}'] = value
    return losses


class DualPairs:
    """Mixin of a task's teacher-student model (first in the bases): two
    pairs ``(student_a, teacher_a)``, ``(student_b, teacher_b)``, each
    teacher the EMA of its own student, both students supervised on the
    labelled batch (losses ``a_*`` / ``b_*``), the ensemble of the two
    teachers (``predict_on='ensemble'``, merged as the task says in
    ``predict_ensemble``).

    **The agreement rule** (both tasks): each teacher's predictions at
    confidence ≥ δ (``delta``) are compared per unlabelled image (mean
    matched IoU of boxes, mean IoU of class maps); an image whose agreement
    is below τ (``agreement_thr``) is rejected -- it gives no unsupervised
    loss (detection leaves it out of the student's batch, segmentation
    ignores all its pixels: the same loss, Σ over valid pixels / their
    count) -- and ``unsup_rejected`` logs the share.

    Args:
        student_a / student_b: the students' configs (one architecture and
            class list; their ``Pretrained`` checkpoints are checked).
        delta, agreement_thr: δ and τ.
    """
    ensembles = ('ensemble', )
    pairs = DUAL_PAIRS

    def __init__(self, student_a, student_b, delta=0.5, agreement_thr=0.5,
                 predict_on='ensemble', **kwargs):
        super().__init__(
            **dual_pair_members(type(self).__name__, student_a, student_b,
                                kwargs),
            predict_on=predict_on, **kwargs)
        self.delta = delta
        self.agreement_thr = agreement_thr

    def accepts(self, agreement: float) -> bool:
        """Whether an image of this ``agreement`` is kept (≥ τ)."""
        return bool(agreement >= self.agreement_thr)

    def sup_loss(self, inputs, data_samples) -> Dict:
        return dual_sup_losses(self, inputs, data_samples)
