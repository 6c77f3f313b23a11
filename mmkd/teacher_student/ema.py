"""Exponential-moving-average teachers.

``θ_T ← (1 − m)·θ_T + m·θ_S`` (mmdet's convention, momentum ``m = 0.001``,
i.e. decay ``d = 1 − m = 0.999``), optionally with the warm-up ramp of the
original Soft Teacher / mean-teacher code, ``d_t = min(d, 1 − 1/(t + 1))``,
so that early teachers follow the fast-changing student closely.

mmdet's ``MeanTeacherHook`` either averages buffers or skips them; skipping
leaves a teacher with trainable BatchNorm using its initial running
statistics.  Here the buffer policy is explicit: ``'copy'`` (default: the
student's running statistics are taken as they are), ``'ema'`` (averaged like
parameters; integer buffers such as ``num_batches_tracked`` are copied) or
``'skip'``.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.hooks import Hook

from mmkd.registry import HOOKS
from mmkd.utils.dist import average_buffers_over_ranks
from mmkd.utils.unwrap import unwrap_model

BUFFER_POLICIES = ('copy', 'ema', 'skip')


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, momentum: float,
               buffers: str = 'copy') -> None:
    """One EMA step of ``teacher`` towards ``student`` (same architecture).

    The arithmetic of mmengine's ``ExponentialMovingAverage.avg_func``
    (``lerp_``), written as ``mul_`` + ``add_``: its ``BaseAveragedModel``
    owns a deep copy of one model and counts the steps itself, which the
    core's member teachers (several pairs, one hook, per-group step counts)
    do not fit; and ``lerp_`` rounds differently, which would move every
    measured run's numbers."""
    if buffers not in BUFFER_POLICIES:
        raise ValueError(f'buffers must be one of {BUFFER_POLICIES}, got '
                         f'{buffers!r}')
    t_params = dict(teacher.named_parameters())
    for name, s_param in student.named_parameters():
        t_params[name].mul_(1 - momentum).add_(s_param.detach(),
                                               alpha=momentum)
    if buffers == 'skip':
        return
    t_buffers = dict(teacher.named_buffers())
    for name, s_buf in student.named_buffers():
        t_buf = t_buffers[name]
        if buffers == 'ema' and t_buf.is_floating_point():
            t_buf.mul_(1 - momentum).add_(s_buf, alpha=momentum)
        else:
            t_buf.copy_(s_buf)


@HOOKS.register_module()
class EMATeacherHook(Hook):
    """Update EMA teachers after every ``interval`` training iterations.

    Args:
        momentum: ``m`` in ``θ_T ← (1 − m)·θ_T + m·θ_S`` (0.001).
        interval: update every ``interval`` iterations.
        warmup: use ``d_t = min(1 − m, 1 − 1/(t + 1))`` with ``t`` the number
            of completed iterations (so the first update copies the student),
            or of the pair's own steps where the model counts them
            (``model.ema_steps()``, one per pair of ``ema_pairs()``).
        buffers: ``'copy'`` | ``'ema'`` | ``'skip'`` (see module doc).
        pairs: ``(student, teacher)`` module paths on the model, e.g.
            ``[('student', 'teacher')]``; default: the pairs the model names
            at each step (``model.ema_pairs()``, every EMA teacher of a
            :class:`~mmkd.teacher_student.TeacherStudentModel`, or only the
            group a method trained).

    At the start of a fresh run (iteration 0) every teacher is set to its
    student.  The teachers are modules of the model, so their weights are in
    every checkpoint and ``--resume`` restores them exactly; the ramp depends
    only on the iteration, which is restored too.
    """
    priority = 'ABOVE_NORMAL'  # before checkpointing / logging hooks

    def __init__(self, momentum: float = 0.001, interval: int = 1,
                 warmup: bool = False, buffers: str = 'copy',
                 pairs: Optional[Sequence[Tuple[str, str]]] = None):
        if not 0 < momentum <= 1:
            raise ValueError(f'momentum must be in (0, 1], got {momentum}')
        if buffers not in BUFFER_POLICIES:
            raise ValueError(f'buffers must be one of {BUFFER_POLICIES}, '
                             f'got {buffers!r}')
        self.momentum = momentum
        self.interval = interval
        self.warmup = warmup
        self.buffers = buffers
        self.pairs = None if pairs is None else [tuple(p) for p in pairs]

    @staticmethod
    def _model(runner):
        return unwrap_model(runner.model)

    def _pairs(self, model, every=False):
        """Modules of the pairs to update (``every``: all the model has)."""
        if self.pairs is not None:
            names = self.pairs
        elif hasattr(model, 'ema_pairs'):
            names = [(s, t) for t, s in model.ema_sources.items()] if every \
                else model.ema_pairs()
        else:
            raise AttributeError(
                f'EMATeacherHook: {type(model).__name__} names no EMA pairs; '
                "give pairs=[('student', 'teacher'), ...]")
        out = []
        for s_name, t_name in names:
            modules = []
            for name in (s_name, t_name):
                try:
                    module = model.get_submodule(name)
                except AttributeError:
                    raise AttributeError(
                        f'EMATeacherHook: {type(model).__name__} has no '
                        f'module {name!r} (pairs={names})') from None
                # a member wrapped on its own (mmengine's separate DDP wraps
                # each student): its parameters lie in .module
                modules.append(unwrap_model(module))
            out.append(tuple(modules))
        return out

    def momentum_at(self, step: int) -> float:
        """Momentum ``1 − d_t`` used after ``step`` completed iterations."""
        if not self.warmup:
            return self.momentum
        decay = min(1 - self.momentum, 1 - 1 / (step + 1))
        return 1 - decay

    def before_train(self, runner) -> None:
        model = self._model(runner)
        if getattr(model, 'teacher_norm', None) == 'batch_track' \
                and self.buffers == 'copy':
            raise ValueError(
                "EMATeacherHook(buffers='copy') overwrites the running "
                "statistics that teacher_norm='batch_track' makes the "
                "teacher track: use buffers='skip' (or 'ema')")
        if runner.iter == 0:
            for student, teacher in self._pairs(model, every=True):
                ema_update(teacher, student, 1.0, buffers='copy')

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        step = runner.iter + 1
        if step % self.interval != 0:
            return
        model = self._model(runner)
        pairs = self._pairs(model)
        # the pair's own step count where the model keeps one (RAIL's groups)
        steps = model.ema_steps() if self.pairs is None and hasattr(
            model, 'ema_steps') else [step] * len(pairs)
        for (student, teacher), t in zip(pairs, steps):
            ema_update(teacher, student, self.momentum_at(t), self.buffers)
            if self.buffers != 'skip':
                # each rank's student has its own BatchNorm statistics
                # (DDP does not broadcast buffers): one teacher for all
                average_buffers_over_ranks(teacher)
