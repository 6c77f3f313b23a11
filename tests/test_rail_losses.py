"""RAIL's loss terms on hand-made 3D cases (4 voxels, 2 classes)."""
import math

import pytest
import torch

from mmkd.volumetric.rail_losses import (
    best_student,
    cal_loss,
    dfs_loss,
    sharpen,
    teacher_loss,
    uniform_kl,
)


def _logits(fg):
    """(1, 2, 4, 1, 1) logits with background 0 and foreground ``fg``."""
    fg = torch.tensor(fg, dtype=torch.float32)
    return torch.stack([torch.zeros_like(fg), fg])[None, :, :, None, None]


def _sigmoid(a):
    return 1 / (1 + math.exp(-a))


def _kl(a):  # −mean_c log_softmax([0, a])
    lse = math.log(1 + math.exp(a))
    return -((0 - lse) + (a - lse)) / 2


LABEL = torch.tensor([1, 1, 0, 0])[None, :, None, None]
FG = [2.0, -2.0, 0.5, -1.0]  # argmax 1, 0, 1, 0: wrong at voxels 1 and 2
BEST = torch.tensor([1, 1, 1, 0])[None, :, None, None]  # differs at voxel 1


def test_sharpen_and_uniform_kl():
    p = torch.tensor([0.6, 0.4]).view(1, 2, 1, 1, 1)
    assert sharpen(p, 0.5).flatten().tolist() == pytest.approx(
        [0.36 / 0.52, 0.16 / 0.52])
    assert uniform_kl(torch.zeros(1, 2, 1, 1, 1)).item() == pytest.approx(
        math.log(2))  # smallest where the classes are equal
    assert uniform_kl(_logits([3.0])[:, :, :1]).item() > math.log(2)


def test_dfs_of_a_student_that_is_not_the_best():
    """Only voxel 1 differs from the best student; it is also wrong."""
    loss = dfs_loss(_logits(FG), LABEL, BEST, is_best=False)
    want = 0.5 * (_sigmoid(-2) - 1)**2 + 0.05 * _kl(-2)
    assert loss.item() == pytest.approx(want, rel=1e-5)
    # voxels where it agrees with the best student do not count
    other = dfs_loss(_logits([5.0, -2.0, 3.0, -4.0]), LABEL, BEST,
                     is_best=False)
    assert other.item() == pytest.approx(want, rel=1e-5)


def test_dfs_of_the_best_student():
    """The squared error over all voxels, the KL over its wrong ones."""
    loss = dfs_loss(_logits(FG), LABEL, BEST, is_best=True)
    y = [1, 1, 0, 0]
    sq = sum((_sigmoid(a) - t)**2 for a, t in zip(FG, y)) / 4
    want = 0.5 * sq + 0.05 * (_kl(-2) + _kl(0.5)) / 2
    assert loss.item() == pytest.approx(want, rel=1e-5)


def test_cal_pulls_to_the_sharpened_best_and_pushes_disagreement_to_uniform():
    logits = _logits(FG)
    best = _logits([1.0, 1.0, -1.0, -1.0]).softmax(1)  # differs at 1, 2
    target = sharpen(best, 0.1)
    probs = logits.softmax(1)
    mse = ((probs - target)**2).mean().item()
    want = 3.0 * (mse + 0.1 * (_kl(-2) + _kl(0.5)) / 2)
    loss = cal_loss(logits, best, weight=3.0)
    assert loss.item() == pytest.approx(want, rel=1e-5)
    # RAIL's code: the uniform KL of the probabilities (double softmax)
    prob_kl = uniform_kl(probs)[0, 1:3].mean().item()
    legacy = cal_loss(logits, best, weight=3.0, kl_input='prob')
    assert legacy.item() == pytest.approx(3.0 * (mse + 0.1 * prob_kl),
                                          rel=1e-5)
    # the optional gate keeps only voxels where the best is confident
    sharp = _logits([4.0, 4.0, 0.1, -4.0]).softmax(1)
    gated = cal_loss(logits, sharp, weight=1.0, confidence=0.9)
    keep = [0, 1, 3]
    se = ((probs - sharpen(sharp, 0.1))**2).mean(1)[0, keep].mean().item()
    div = uniform_kl(logits)[0, [1]].mean().item()  # argmax differs at 1
    assert gated.item() == pytest.approx(se + 0.1 * div, rel=1e-5)
    with pytest.raises(ValueError, match='kl_input'):
        cal_loss(logits, best, 1.0, kl_input='probs')


def test_teacher_term_and_gradients_reach_only_the_student():
    logits = _logits(FG).requires_grad_()
    teacher = _logits([1.0, 1.0, -1.0, -1.0]).softmax(1).requires_grad_()
    loss = teacher_loss(logits, teacher, weight=10.0)
    want = 10.0 * ((logits.softmax(1) - sharpen(teacher, 0.1))**2).mean()
    assert loss.item() == pytest.approx(want.item())
    loss.backward()
    assert logits.grad.abs().sum() > 0 and teacher.grad is None


def test_best_student_is_the_lowest_dice_loss():
    losses = dict(vnet_0=torch.tensor(0.3), resvnet_0=torch.tensor(0.2),
                  vnet_1=torch.tensor(0.25), resvnet_1=torch.tensor(0.2))
    assert best_student(losses) == 'resvnet_0'
