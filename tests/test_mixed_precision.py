"""What ``--amp`` changes, shown on CPU: the steps and losses under
``torch.autocast('cpu', float16 / bfloat16)`` (on a GPU, autocast casts the
same operations) or on half-precision inputs.  Each test failed before the
fix it guards."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmkd.distillation.losses.masked_feature import dice_diversity, masked_mse

HALF_TYPES = [torch.float16, torch.bfloat16]


def test_soft_teacher_unsupervised_loss_under_autocast(monkeypatch):
    """The background weights are float32 whatever the classifier's type
    (an fp16 ``cls_score.new_zeros`` took the teacher's fp32 probabilities:
    "Index put requires the source and destination dtypes match").

    CUDA's autocast computes softmax in float32 and CPU's in float16, so
    the teacher's probabilities are made float32 here as on a GPU.  (Only
    float16: mmcv's RoIAlign kernels have no bfloat16, on CPU or CUDA.)"""
    from test_soft_teacher import _image_batch, _model
    model = _model()
    model.train()
    inputs, samples = _image_batch()
    background_prob = model.teacher_background_prob
    monkeypatch.setattr(model, 'teacher_background_prob',
                        lambda *a: background_prob(*a).float())
    with torch.autocast('cpu', dtype=torch.float16):
        teacher_x = model.teacher.extract_feat(inputs)
        losses = model.unsup_loss(inputs, samples,
                                  dict(teacher_feats=teacher_x))
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    assert losses['loss_cls'].item() > 0
    total.backward()


def _features(size=128, channels=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    # large-ish activations, as late in training: squared differences of
    # ~10 summed over 128·128 positions pass float16's 65 504
    return (torch.randn(1, channels, size, size, generator=g) * 4,
            torch.randn(1, channels, size, size, generator=g) * 4)


@pytest.mark.parametrize('dtype', HALF_TYPES)
def test_masked_feature_losses_of_half_inputs_are_float32(dtype):
    """MasKD / ACAM-KD's sums over 128 × 128 positions overflowed float16
    (inf); now finite, float32, and equal to the float32 result within the
    inputs' own rounding (rel. 1e-3)."""
    s, t = _features()
    diff2 = (t - s).pow(2).flatten(2)
    g = torch.Generator().manual_seed(1)
    masks = torch.rand(1, 6, 128 * 128, generator=g)
    ref = masked_mse(diff2, masks, norm=256)
    ref_div = dice_diversity(masks)
    with torch.autocast('cpu', dtype=dtype):
        half = masked_mse(diff2.to(dtype), masks.to(dtype), norm=256)
        half_div = dice_diversity(masks.to(dtype))
    for got, want in ((half, ref), (half_div, ref_div)):
        assert got.dtype == torch.float32 and torch.isfinite(got)
        assert got.item() == pytest.approx(want.item(), rel=1e-3)


@pytest.mark.parametrize('dtype', HALF_TYPES)
@pytest.mark.parametrize('loss_type', ['ACAMKDLoss', 'MasKDLoss'])
def test_acam_kd_and_maskd_under_autocast_match_float32(dtype, loss_type):
    """The whole loss on (1, 256, 128, 128) features under autocast: every
    term finite and within rel. 1e-3 of float32 (was nan / inf in
    float16)."""
    from mmkd.registry import MODELS
    torch.manual_seed(0)
    extra = dict(kv_stride=4) if loss_type == 'ACAMKDLoss' else {}
    loss = MODELS.build(dict(type=loss_type, student_channels=256,
                             teacher_channels=256, **extra))
    s, t = _features()
    ref = loss(s, t)
    with torch.autocast('cpu', dtype=dtype):
        out = loss(s, t)
    for name, value in out.items():
        assert torch.isfinite(value), name
        assert value.item() == pytest.approx(ref[name].item(), rel=1e-3), \
            name


def test_acam_kd_attention_is_four_dimensional(monkeypatch):
    """q, k, v reach ``scaled_dot_product_attention`` as (B, heads, L, E),
    the layout its fused CUDA kernels take (3-D inputs take the math kernel,
    which holds the HW × hw scores), and the fusion is unchanged:
    ``softmax(Q Kᵀ / √C_q) V``."""
    from mmkd.distillation.losses.acam_kd import STCAFusion
    shapes = []
    sdpa = F.scaled_dot_product_attention

    def recording(q, k, v, *args, **kwargs):
        shapes.append((q.shape, k.shape, v.shape))
        return sdpa(q, k, v, *args, **kwargs)

    monkeypatch.setattr(F, 'scaled_dot_product_attention', recording)
    torch.manual_seed(0)
    fusion = STCAFusion(8, qk_ratio=0.5)
    t, s = torch.randn(2, 8, 6, 5), torch.randn(2, 8, 6, 5)
    fused = fusion(t, s)
    assert shapes == [(torch.Size([2, 1, 30, 4]), torch.Size([2, 1, 30, 4]),
                       torch.Size([2, 1, 30, 8]))]
    q = fusion.query(t).flatten(2).transpose(1, 2)
    k = fusion.key(s).flatten(2).transpose(1, 2)
    v = fusion.value(s).flatten(2).transpose(1, 2)
    want = (q @ k.transpose(1, 2) / 2).softmax(-1) @ v
    assert torch.allclose(fused, want.transpose(1, 2).reshape(2, 8, 6, 5),
                          atol=1e-5)


@pytest.mark.parametrize('dtype', HALF_TYPES)
def test_boxes_project_in_float32_under_autocast(dtype):
    """Pseudo boxes move between views in float32 under autocast (the
    matrix product in float16 was off by ~1 px at 1300 px, bfloat16 by
    ~5 px)."""
    from mmkd.teacher_student.views import project_boxes
    matrix = np.array([[1.37, 0.0, -11.3], [0.0, 1.37, 7.9], [0, 0, 1]])
    boxes = torch.tensor([[1201.3, 803.7, 1297.9, 951.2],
                          [13.1, 5.5, 47.25, 88.8]])
    corners = boxes.double().numpy()
    want = np.concatenate([corners[:, :2] * 1.37 + [-11.3, 7.9],
                           corners[:, 2:] * 1.37 + [-11.3, 7.9]], 1)
    with torch.autocast('cpu', dtype=dtype):
        got = project_boxes(boxes, matrix)
        got_half_input = project_boxes(boxes.to(dtype), matrix)
    assert got.dtype == torch.float32
    assert np.abs(got.numpy() - want).max() < 1e-3
    # boxes already rounded to the half type: only their own rounding
    step = 8.0 if dtype == torch.bfloat16 else 1.0
    assert np.abs(got_half_input.numpy() - want).max() <= 1.37 * step


def test_amp_turns_every_member_wrapper_into_an_amp_wrapper(monkeypatch):
    """``--amp`` with ``mmkd.MemberOptimWrapperConstructor`` makes each
    member's wrapper an AmpOptimWrapper; with another constructor and no
    member dicts, the config's one wrapper (it was left untouched)."""
    import importlib.util

    from conftest import ROOT, config_file
    spec = importlib.util.spec_from_file_location(
        'train_tool', f'{ROOT}/tools/train.py')
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    monkeypatch.setattr(train, 'get_device', lambda: 'cuda')

    def built(name, *options):
        argv = ['train.py', config_file(name), '--amp']
        if options:
            argv += ['--cfg-options', *options]
        monkeypatch.setattr('sys.argv', argv)
        return train.build_config(train.parse_args()).optim_wrapper

    rail = built('rail_vnet_demo_cbct')
    members = [v for v in rail.values() if isinstance(v, dict)]
    assert members and all(m.type == 'AmpOptimWrapper' for m in members)
    one = built('soft_teacher_faster_rcnn_r18_demo_coco_10p',
                'optim_wrapper.constructor=DefaultOptimWrapperConstructor')
    assert one.type == 'AmpOptimWrapper' and one.loss_scale == 'dynamic'
    monkeypatch.setattr(train, 'get_device', lambda: 'cpu')
    with pytest.raises(train.ConfigError, match='--amp needs a GPU'):
        built('soft_teacher_faster_rcnn_r18_demo_coco_10p')
