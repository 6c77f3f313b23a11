"""ACAM-KD and the baselines on small tensors: the formulas, the shapes,
where the gradients go."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmkd.distillation import (
    ACAMKDLoss,
    ChannelWiseDivergence,
    FeatureMSELoss,
    MasKDLoss,
    STCAFusion,
)
from mmkd.distillation.losses import dice_diversity, masked_mse


def test_stca_fusion_equals_naive_attention():
    torch.manual_seed(0)
    fusion = STCAFusion(channels=8, qk_ratio=0.5)
    t, s = torch.randn(2, 8, 3, 5), torch.randn(2, 8, 3, 5)
    out = fusion(t, s)
    q = fusion.query(t).flatten(2)   # B, Cq, HW
    k = fusion.key(s).flatten(2)
    v = fusion.value(s).flatten(2)   # B, C, HW
    attn = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(4), dim=-1)
    naive = (attn @ v.transpose(1, 2)).transpose(1, 2).reshape(2, 8, 3, 5)
    assert out.shape == (2, 8, 3, 5)
    assert torch.allclose(out, naive, atol=1e-5)


def test_stca_fusion_kv_pooling_attends_to_pooled_student():
    torch.manual_seed(0)
    fusion = STCAFusion(channels=4, kv_stride=2)
    t, s = torch.randn(1, 4, 6, 6), torch.randn(1, 4, 6, 6)
    pooled = F.avg_pool2d(s, 2)
    fusion.kv_stride = 1
    expected = fusion(t, F.interpolate(pooled, scale_factor=1))
    fusion.kv_stride = 2
    assert torch.allclose(fusion(t, s), expected, atol=1e-6)


def test_masks_are_in_0_1_with_the_specified_shapes():
    loss = ACAMKDLoss(student_channels=6, teacher_channels=8, num_masks=3)
    fused = torch.randn(2, 8, 4, 5)
    spatial, channel = loss.masks(fused)
    assert spatial.shape == (2, 3, 4, 5) and channel.shape == (2, 3, 8)
    for m in (spatial, channel):
        assert (m > 0).all() and (m < 1).all()
    shared = ACAMKDLoss(6, 8, num_masks=3, channel_units='shared')
    assert shared.channel_units.shape == (3, 1)
    assert shared.masks(fused)[1].shape == (2, 3, 8)


def test_acam_masks_are_the_papers_formulas_on_a_hand_computed_case():
    """Spatial: σ(⟨m_s, F(:, p)⟩) per position; channel:
    σ(m_c ⊙ avgpool(F)), an element-wise *product* (a sum, or pooling by max,
    gives other numbers)."""
    loss = ACAMKDLoss(student_channels=2, teacher_channels=2, num_masks=1)
    with torch.no_grad():
        loss.spatial_units.copy_(torch.tensor([[1.0, -2.0]]))
        loss.channel_units.copy_(torch.tensor([[3.0, 0.5]]))
    # F: channel 0 = [[1, 3]], channel 1 = [[2, -2]] (1×2 positions)
    fused = torch.tensor([[[[1.0, 3.0]], [[2.0, -2.0]]]])
    spatial, channel = loss.masks(fused)

    def sigmoid(v):
        return 1 / (1 + math.exp(-v))

    # positions: 1·1 − 2·2 = −3 and 1·3 − 2·(−2) = 7
    assert spatial.flatten().tolist() == pytest.approx(
        [sigmoid(-3.0), sigmoid(7.0)], rel=1e-6)
    # avgpool = (2, 0); m_c ⊙ pooled = (6, 0)
    assert channel.flatten().tolist() == pytest.approx(
        [sigmoid(6.0), sigmoid(0.0)], rel=1e-6)


def test_masked_mse_on_a_hand_computed_case():
    # B=1, two channels, three positions; one spatial mask
    diff2 = torch.tensor([[[1., 4., 0.], [3., 0., 2.]]])  # (B, C, HW)
    mask = torch.tensor([[[1.0, 0.5, 0.0]]])               # (B, M, HW)
    # Σ_p M_p Σ_c D²_cp / (C Σ_p M_p) = (1·4 + 0.5·4 + 0·2) / (2 · 1.5)
    assert masked_mse(diff2, mask, norm=2).item() == pytest.approx(
        6 / 3, rel=1e-5)
    # the literal ‖M ⊙ D‖² weights by M²
    assert masked_mse(diff2, mask, norm=2, mask_power=2).item() == \
        pytest.approx((4 + 0.25 * 4) / 3, rel=1e-5)
    # two masks: their mean
    two = torch.tensor([[[1.0, 0.5, 0.0], [0.0, 0.0, 1.0]]])
    assert masked_mse(diff2, two, norm=2).item() == pytest.approx(
        (2 + 2 / 2) / 2, rel=1e-5)


def test_dice_diversity_is_1_for_identical_and_0_for_disjoint_masks():
    same = torch.rand(2, 1, 10).repeat(1, 3, 1)
    assert dice_diversity(same).item() == pytest.approx(1, abs=1e-5)
    disjoint = torch.zeros(1, 3, 9)
    for i in range(3):
        disjoint[0, i, 3 * i:3 * i + 3] = 1
    assert dice_diversity(disjoint).item() == pytest.approx(0, abs=1e-6)


def test_acam_kd_loss_vanishes_when_the_student_matches():
    torch.manual_seed(0)
    loss = ACAMKDLoss(4, 4, num_masks=2)
    with torch.no_grad():
        loss.align.weight.copy_(torch.eye(4).view(4, 4, 1, 1))
        loss.align.bias.zero_()
    f = torch.randn(2, 4, 5, 5)
    out = loss(f, f)
    assert out['loss_spatial'].item() == pytest.approx(0, abs=1e-7)
    assert out['loss_channel'].item() == pytest.approx(0, abs=1e-7)
    assert out['loss_div'].item() > 0
    assert loss(f + 1, f)['loss_spatial'].item() > 0


def test_acam_kd_gradients_reach_the_student_and_the_masks():
    torch.manual_seed(0)
    loss = ACAMKDLoss(6, 8, num_masks=3)
    s = torch.randn(2, 6, 5, 5, requires_grad=True)
    t = torch.randn(2, 8, 5, 5, requires_grad=True)
    sum(loss(s, t).values()).backward()
    assert s.grad.abs().sum() > 0
    assert t.grad is None  # the teacher is detached
    for p in (loss.spatial_units, loss.channel_units, loss.align.weight,
              loss.fusion.query.weight, loss.fusion.key.weight,
              loss.fusion.value.weight):
        assert p.grad is not None and p.grad.abs().sum() > 0


def test_acam_kd_rejects_a_channel_mismatch_by_name():
    loss = ACAMKDLoss(6, 8)
    with pytest.raises(ValueError, match='channels 6/8, got 4/8'):
        loss(torch.randn(1, 4, 3, 3), torch.randn(1, 8, 3, 3))


def test_acam_kd_without_align_compares_the_students_own_features():
    torch.manual_seed(0)
    loss = ACAMKDLoss(4, 4, num_masks=2, align=False)
    t = torch.randn(2, 4, 5, 5)
    # no learned align: a student equal to the teacher has nothing to learn
    out = loss(t.clone(), t)
    assert out['loss_spatial'].item() == pytest.approx(0, abs=1e-7)
    assert out['loss_channel'].item() == pytest.approx(0, abs=1e-7)
    s = (t + torch.randn_like(t)).requires_grad_()
    out = loss(s, t)
    # the spatial term is the mask-weighted mean of (T - S)^2 itself
    m = loss.masks(loss.fusion(t, s))[0].flatten(2)  # B, M, HW
    d2 = (t - s).pow(2).flatten(2).sum(1, keepdim=True) / 4  # B, 1, HW
    expected = ((m * d2).sum(-1) / m.sum(-1)).mean()
    assert out['loss_spatial'].item() == pytest.approx(expected.item(),
                                                       rel=1e-5)
    out['loss_spatial'].backward()
    assert s.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='align=False.*student 6.*teacher 8'):
        ACAMKDLoss(6, 8, align=False)


def test_cwd_matches_its_formula():
    torch.manual_seed(0)
    s, t = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    tau = 4.0
    out = ChannelWiseDivergence(3, 3, tau=tau)(s, t)['loss_cwd']
    p_t = F.softmax(t.flatten(2) / tau, -1)
    kl = F.kl_div(F.log_softmax(s.flatten(2) / tau, -1), p_t,
                  reduction='sum')
    assert out.item() == pytest.approx(tau**2 * kl.item() / 6, rel=1e-5)
    assert ChannelWiseDivergence(3, 3)(t, t)['loss_cwd'].item() == \
        pytest.approx(0, abs=1e-6)


def test_feature_mse_and_maskd_baselines():
    torch.manual_seed(0)
    s, t = torch.randn(2, 4, 6, 6), torch.randn(2, 8, 6, 6)
    mse = FeatureMSELoss(4, 8)
    assert mse(s, t)['loss_mse'].item() == pytest.approx(
        F.mse_loss(mse.align(s), t).item())
    maskd = MasKDLoss(4, 8, num_masks=3)
    out = maskd(s, t)
    assert maskd.last_masks.shape == (2, 3, 6, 6)
    sum(out.values()).backward()
    # teacher-only masks: tokens move with the diversity loss only
    maskd.zero_grad()
    out = maskd(s, t)
    out['loss_masked'].backward()
    assert maskd.tokens.grad is None or maskd.tokens.grad.abs().sum() == 0


@pytest.mark.parametrize('div_grad', ['all', 'units'])
def test_acam_kd_div_grad_decides_what_the_diversity_loss_trains(div_grad):
    torch.manual_seed(0)
    loss = ACAMKDLoss(8, 8, num_masks=3, div_grad=div_grad)
    student = torch.randn(2, 8, 5, 5, requires_grad=True)
    out = loss(student, torch.randn(2, 8, 5, 5))
    out['loss_div'].backward()
    assert loss.spatial_units.grad.abs().sum() > 0
    assert loss.channel_units.grad.abs().sum() > 0
    if div_grad == 'all':  # the paper's joint objective
        assert student.grad.abs().sum() > 0
    else:  # the selection units only
        assert student.grad is None or student.grad.abs().sum() == 0
    # the distillation terms themselves are the same either way
    torch.manual_seed(0)
    other = ACAMKDLoss(8, 8, num_masks=3,
                       div_grad='all' if div_grad == 'units' else 'units')
    torch.manual_seed(1)
    s, t = torch.randn(2, 8, 5, 5), torch.randn(2, 8, 5, 5)
    a, b = loss(s, t), other(s, t)
    torch.testing.assert_close(a['loss_spatial'], b['loss_spatial'])
    torch.testing.assert_close(a['loss_div'], b['loss_div'])


def test_acam_kd_rejects_an_unknown_div_grad():
    with pytest.raises(ValueError, match='div_grad'):
        ACAMKDLoss(8, 8, div_grad='student')


@pytest.mark.parametrize('detach', [False, True])
def test_acam_kd_detach_masks_decides_whether_imitation_trains_the_masks(
        detach):
    """``detach_masks=True``: L_s and L_c give the selection units and the
    fusion no gradient (they still train the student, with the same value);
    ``False``: they train the masks too."""
    torch.manual_seed(0)
    loss = ACAMKDLoss(8, 8, num_masks=3, detach_masks=detach)
    student = torch.randn(2, 8, 5, 5, requires_grad=True)
    teacher = torch.randn(2, 8, 5, 5)
    out = loss(student, teacher)
    (out['loss_spatial'] + out['loss_channel']).backward()
    assert student.grad.abs().sum() > 0
    for p in (loss.spatial_units, loss.channel_units,
              loss.fusion.query.weight):
        moved = p.grad is not None and p.grad.abs().sum() > 0
        assert moved is not detach
    torch.manual_seed(0)
    other = ACAMKDLoss(8, 8, num_masks=3, detach_masks=not detach)
    torch.testing.assert_close(other(student, teacher)['loss_spatial'],
                               out['loss_spatial'])
