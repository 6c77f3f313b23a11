"""Dual Mean-Teacher's two teacher-student pairs, for any task: their member
names, the core's member arguments, and the supervised loss of both
students (the segmentation and detection methods share these)."""
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
