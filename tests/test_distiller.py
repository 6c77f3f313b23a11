"""The distiller on the demo detection and segmentation models: sources and
losses checked at build time, the teacher frozen, gradients where they
belong, inheritance init, the weight schedule, mask images."""
import copy
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from conftest import load_config

DET = 'configs/acam_kd/demo/acam_kd_faster_rcnn_r34w2_r18_demo_coco.py'
SEG = 'configs/acam_kd/demo/acam_kd_deeplabv3_r18w2_mbv2_demo_cityscapes.py'


def _build(path=DET, **changes):
    from mmkd.registry import MODELS
    cfg = load_config(path)
    init_default_scope(cfg.get('default_scope', 'mmkd'))
    cfg.model.teacher_ckpt = None
    for k, v in changes.items():
        cfg.model[k] = v
    return MODELS.build(cfg.model)


def _det_batch(model, n=2, size=64):
    torch.manual_seed(0)
    samples = []
    for _ in range(n):
        s = DetDataSample(metainfo=dict(img_shape=(size, size),
                                        ori_shape=(size, size),
                                        pad_shape=(size, size),
                                        batch_input_shape=(size, size),
                                        scale_factor=(1., 1.)))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[8., 8., 40., 36.]]),
            labels=torch.tensor([1]))
        samples.append(s)
    return torch.randn(n, 3, size, size), samples


def test_levels_expand_and_sources_are_recorded():
    model = _build()
    assert sorted(model.distill_losses) == [f'fpn{i}' for i in range(5)]
    assert model.distill_losses.inputs['fpn3'] == dict(
        student=('student:neck', 3), teacher=('teacher:neck', 3))


def test_a_wrong_module_path_fails_at_build_with_its_name():
    losses = dict(x=dict(type='FeatureMSELoss', student_channels=64,
                         teacher_channels=64,
                         inputs=dict(student='student:nekc[0]',
                                     teacher='teacher:neck[0]')))
    with pytest.raises(ValueError, match="student has no module 'nekc'"):
        _build(distill_losses=losses)


def test_a_wrong_argument_name_fails_at_build():
    losses = dict(x=dict(type='FeatureMSELoss', student_channels=64,
                         teacher_channels=64,
                         inputs=dict(stdent='student:neck[0]',
                                     teacher='teacher:neck[0]')))
    with pytest.raises(ValueError, match=r"unknown: \['stdent'\]"):
        _build(distill_losses=losses)


def test_a_channel_mismatch_fails_at_build():
    losses = dict(x=dict(type='ACAMKDLoss', student_channels=64,
                         teacher_channels=256,
                         inputs=dict(student='student:neck[0]',
                                     teacher='teacher:neck[0]')))
    with pytest.raises(ValueError, match="teacher module 'neck' has 64 "
                       "output channels.*teacher_channels=256"):
        _build(distill_losses=losses)


def test_training_step_leaves_the_teacher_and_trains_student_and_masks():
    model = _build()
    model.train()
    assert not model.teacher.training and model.student.training
    teacher_before = copy.deepcopy(model.teacher.state_dict())
    inputs, samples = _det_batch(model)
    losses = model.loss(inputs, samples)
    assert 'loss_distill_fpn0_spatial' in losses
    assert 'loss_distill_fpn4_div' in losses
    assert losses['distill_task_ratio'] > 0
    total, _ = model.parse_losses(losses)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                          lr=0.1)
    total.backward()
    assert model.student.backbone.conv1.weight.grad.abs().sum() > 0
    loss0 = model.distill_losses['fpn0']
    assert loss0.spatial_units.grad.abs().sum() > 0
    assert loss0.fusion.query.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.teacher.parameters())
    opt.step()
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), k


def test_inheritance_copies_matching_teacher_weights():
    model = _build()
    with torch.no_grad():
        for p in model.teacher.parameters():
            p.add_(1.0)
    model.init_weights()
    t, s = model.teacher, model.student
    assert torch.equal(s.roi_head.bbox_head.fc_cls.weight,
                       t.roi_head.bbox_head.fc_cls.weight)
    assert torch.equal(s.neck.fpn_convs[0].conv.weight,
                       t.neck.fpn_convs[0].conv.weight)
    # lateral convs differ in shape (the backbones differ) and are not copied
    assert not torch.equal(s.backbone.conv1.weight[:1],
                           t.backbone.conv1.weight[:1])
    with pytest.raises(ValueError, match='no teacher weight'):
        _build(inherit=['backbone.layer4']).init_weights()


def test_the_runners_init_weights_keeps_the_loaded_teacher(tmp_path):
    # mmengine's Runner calls model.init_weights() after building the model:
    # it must initialise the student, not overwrite the teacher checkpoint
    donor = _build().teacher
    with torch.no_grad():
        for p in donor.parameters():
            p.add_(0.5)
    path = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=donor.state_dict()), path)
    model = _build(teacher_ckpt=path)
    student_conv = model.student.backbone.conv1.weight.clone()
    model.init_weights()
    for key, value in donor.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[key], value), key
    assert not torch.equal(model.student.backbone.conv1.weight, student_conv)
    assert torch.equal(model.student.neck.fpn_convs[0].conv.weight,
                       donor.neck.fpn_convs[0].conv.weight)  # inherited


def test_segmentation_logits_distillation_builds_and_runs():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    model = _build(SEG)
    assert model.distill_losses.inputs['logits']['student'] == (
        'student:decode_head.conv_seg', None)
    model.train()
    samples = []
    for _ in range(2):
        s = SegDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64),
                                        pad_shape=(64, 64)))
        s.gt_sem_seg = PixelData(data=torch.randint(0, 19, (1, 64, 64)))
        samples.append(s)
    losses = model.loss(torch.randn(2, 3, 64, 64), samples)
    assert losses['loss_distill_logits_spatial'] > 0
    # the teacher ran its decode head (the recorded source is there)
    assert model.distill_losses['logits'].last_masks.shape[1] == 19


def test_distill_weight_schedule():
    from mmkd.engine.hooks import DistillWeightHook
    hook = DistillWeightHook(start=2.0, end=0.0, schedule='linear',
                             warmup_iters=10)
    assert hook.weight_at(0, 100) == 0.0
    assert hook.weight_at(5, 100) == pytest.approx(0.5 * 2 * 0.95)
    assert hook.weight_at(50, 100) == pytest.approx(1.0)
    cos = DistillWeightHook(start=1.0, end=0.0, schedule='cosine')
    assert cos.weight_at(50, 100) == pytest.approx(0.5)
    assert DistillWeightHook(start=3.0).weight_at(70, 100) == 3.0


def test_mask_visualisation_draws_one_picture_per_image_and_level():
    from mmkd.engine.hooks import DistillMaskVisualizationHook
    model = _build()
    model.train()
    inputs, samples = _det_batch(model)
    model.loss(inputs, samples)
    raw = [torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
           for _ in range(2)]
    hook = DistillMaskVisualizationHook(max_images=1)
    pictures = hook.pictures(model, dict(inputs=raw, data_samples=samples))
    assert len(pictures) == 5
    picture = pictures['distill_masks_fpn0_img0']
    assert picture.shape == (64, 64 * 7, 3)  # the image + 6 masks
    # the first tile is the image itself, turned from BGR into RGB
    assert (picture[:, :64] == raw[0].permute(1, 2, 0).numpy()[..., ::-1]
            ).all()


def _seg_run_config(tmp_path, demo_root, iters):
    cfg = load_config(SEG)
    cfg.model.teacher_ckpt = None  # a random teacher: no run before
    root = osp.join(demo_root, 'cityscapes_demo') + '/'
    cfg.train_dataloader.dataset.data_root = root
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=10**6)
    for key in ('val_cfg', 'val_dataloader', 'val_evaluator', 'test_cfg',
                'test_dataloader', 'test_evaluator'):
        cfg[key] = None
    cfg.custom_hooks = [dict(type='mmkd.RNGStateHook')]
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=2, max_keep_ckpts=-1)
    path = tmp_path / f'acam_seg_{iters}.py'
    cfg.dump(str(path))
    return str(path)


@pytest.mark.slow
def test_distiller_resumes_exactly(tmp_path, demo_root):
    """Cut after 2 of 4 iterations and resumed: the same losses and, at the
    end, the same student and ACAM-KD selection units (the teacher never
    moves)."""
    from conftest import run_tool
    from test_training import train_losses
    straight, resumed = str(tmp_path / 'straight'), str(tmp_path / 'resumed')
    for work_dir, iters, extra in ((straight, 4, ()), (resumed, 2, ()),
                                   (resumed, 4, ('--resume', ))):
        r = run_tool('tools/train.py',
                     _seg_run_config(tmp_path, demo_root, iters),
                     '--work-dir', work_dir, *extra)
        assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    a, b = train_losses(straight), train_losses(resumed)
    assert sorted(a) == sorted(b) == [1, 2, 3, 4]
    for i in a:
        assert b[i] == pytest.approx(a[i], rel=1e-5, abs=1e-6), (i, a, b)
    sa = torch.load(osp.join(straight, 'iter_4.pth'),
                    weights_only=False)['state_dict']
    sb = torch.load(osp.join(resumed, 'iter_4.pth'),
                    weights_only=False)['state_dict']
    assert any(k.startswith('distill_losses.logits.') for k in sa)
    for k, v in sa.items():
        assert torch.allclose(v.float(), sb[k].float(), atol=1e-6), k


def test_a_semi_supervised_model_distils_from_a_frozen_checkpoint_teacher(
        tmp_path):
    """Soft Teacher with a second, frozen teacher built from a config file
    and a checkpoint: one step has the supervised, the pseudo-label and the
    distillation losses; the distillation feeds the student only, from the
    frozen teacher's features ('teacher:' names the distillation teacher);
    the EMA hook moves only the EMA teacher."""
    from test_core_regression import _batch

    from mmkd.registry import MODELS
    kd = load_config('configs/acam_kd/demo/mse_kd_faster_rcnn_r34w2_r18_'
                     'demo_coco.py').model
    init_default_scope('mmkd')
    teacher = MODELS.build(load_config(kd.teacher).model)
    ckpt = str(tmp_path / 'big.pth')
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    cfg = load_config('configs/soft_teacher/demo/soft_teacher_faster_rcnn_'
                      'r18_demo_coco_10p.py').model
    cfg.student.init_cfg = None
    cfg.update(pseudo_labeller=dict(type='FixedThreshold', score_thr=0.245),
               rpn_pseudo_thr=0.255, cls_pseudo_thr=0.25,
               reg_pseudo_thr=0.055, distill_losses=kd.distill_losses,
               teachers=dict(teacher=dict(ema_of='student'),
                             big=dict(model=kd.teacher, checkpoint=ckpt)))
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    assert model.distill_pair == ('student', 'big')
    assert model.ema_pairs() == [('student', 'teacher')]
    for k, v in teacher.state_dict().items():  # loaded once, frozen
        assert torch.equal(model.big.state_dict()[k], v), k
    assert not any(p.requires_grad for p in model.big.parameters())
    model.student.init_weights()
    model.teacher.load_state_dict(model.student.state_dict())
    model.train()
    assert not model.big.training
    inputs, samples = _batch(with_mask=False)
    losses = model.loss(inputs, samples)
    assert 'sup_loss_cls' in losses and 'unsup_loss_cls' in losses
    distill = [k for k in losses if k.startswith('loss_distill_fpn')]
    assert len(distill) == 5 and losses['distill_task_ratio'] > 0
    total = sum(losses[k] for k in distill)
    total.backward()
    assert model.student.neck.fpn_convs[0].conv.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.big.parameters())
    assert all(p.grad is None for p in model.teacher.parameters())
