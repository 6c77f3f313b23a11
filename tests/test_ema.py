import copy
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn

from mmkd.teacher_student.ema import EMATeacherHook, ema_update


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3))


def _pair():
    student, teacher = _net(), _net()
    with torch.no_grad():
        for p in teacher.parameters():
            p.add_(1.0)
        student[1].running_mean.fill_(2.0)
        student[1].running_var.fill_(3.0)
        student[1].num_batches_tracked.fill_(7)
    return student, teacher


@pytest.mark.parametrize('policy', ['copy', 'ema', 'skip'])
def test_ema_update_matches_the_formula(policy):
    student, teacher = _pair()
    before = copy.deepcopy(teacher)
    m = 0.1
    ema_update(teacher, student, m, buffers=policy)
    for (name, t), s, b in zip(teacher.named_parameters(),
                               student.parameters(), before.parameters()):
        assert torch.allclose(t, (1 - m) * b + m * s), name
    bn_t, bn_b = teacher[1], before[1]
    if policy == 'copy':
        assert torch.equal(bn_t.running_mean, torch.full((3, ), 2.0))
        assert torch.equal(bn_t.running_var, torch.full((3, ), 3.0))
    elif policy == 'ema':
        assert torch.allclose(bn_t.running_mean,
                              (1 - m) * bn_b.running_mean + m * 2.0)
        assert torch.allclose(bn_t.running_var,
                              (1 - m) * bn_b.running_var + m * 3.0)
    else:
        assert torch.equal(bn_t.running_mean, bn_b.running_mean)
        assert torch.equal(bn_t.running_var, bn_b.running_var)
    if policy in ('copy', 'ema'):  # integer buffers are copied
        assert int(bn_t.num_batches_tracked) == 7
    else:
        assert int(bn_t.num_batches_tracked) == 0


def test_bad_buffer_policy_is_rejected():
    with pytest.raises(ValueError, match='buffers must be one of'):
        EMATeacherHook(buffers='average')


PAIR = [('student', 'teacher')]


class _Model(nn.Module):
    """Not a teacher-student model: the hook is told the pairs."""

    def __init__(self):
        super().__init__()
        self.student, self.teacher = _pair()


def test_hook_copies_at_start_and_follows_the_warmup_ramp():
    model = _Model()
    runner = SimpleNamespace(model=model, iter=0)
    hook = EMATeacherHook(momentum=0.001, warmup=True, pairs=PAIR)
    hook.before_train(runner)
    for t, s in zip(model.teacher.parameters(), model.student.parameters()):
        assert torch.equal(t, s)
    # d_t = min(0.999, 1 - 1/(t+1)): t=1 → 0.5, t=3 → 0.75, t=10^4 → 0.999
    assert hook.momentum_at(1) == pytest.approx(0.5)
    assert hook.momentum_at(3) == pytest.approx(0.25)
    assert hook.momentum_at(10_000) == pytest.approx(0.001)
    assert EMATeacherHook(momentum=0.01).momentum_at(1) == 0.01
    # one update after iteration 3 (runner.iter is 0-based): m = 0.25
    with torch.no_grad():
        for p in model.student.parameters():
            p.add_(4.0)
    before = [p.clone() for p in model.teacher.parameters()]
    runner.iter = 2
    hook.after_train_iter(runner, 0)
    for t, b, s in zip(model.teacher.parameters(), before,
                       model.student.parameters()):
        assert torch.allclose(t, 0.75 * b + 0.25 * s)


def test_hook_respects_interval_and_names_missing_attributes():
    model = _Model()
    hook = EMATeacherHook(momentum=0.5, interval=2, pairs=PAIR)
    before = [p.clone() for p in model.teacher.parameters()]
    hook.after_train_iter(SimpleNamespace(model=model, iter=0), 0)  # step 1
    assert all(torch.equal(a, b)
               for a, b in zip(before, model.teacher.parameters()))
    hook.after_train_iter(SimpleNamespace(model=model, iter=1), 0)  # step 2
    assert not all(torch.equal(a, b)
                   for a, b in zip(before, model.teacher.parameters()))
    bad = EMATeacherHook(pairs=[('student', 'teacher2')])
    with pytest.raises(AttributeError, match="'teacher2'"):
        bad.before_train(SimpleNamespace(model=model, iter=0))
    with pytest.raises(AttributeError, match='names no EMA pairs'):
        EMATeacherHook().before_train(SimpleNamespace(model=model, iter=0))
