"""The regression guard of the methods the core does not yet carry alone
(issue 38): for each, the losses its demo config computes on a fixed batch,
from fixed seeds, equal the ones recorded before the methods move onto the
template (rel 1e-4).

``tests/data/method_losses_8ae529d.json`` holds what commit 8ae529d
computed: Dual Soft Teacher; the segmentation mean teacher with CutMix,
feature perturbation and dynamic thresholds (two steps, the thresholds
re-estimated between them); segmentation Dual Mean-Teacher; RAIL (four
optimiser steps: both groups, then DFS / CAL); the 3-D mean teacher; the
feature distiller with each of its losses on detection and segmentation.
Thresholds are set inside the random teachers' score ranges so that every
unsupervised loss is non-zero (checked). A change that moves a number on
purpose re-records with ``MMKD_RECORD_LOSSES=1 pytest
tests/test_method_regression.py`` and names the before / after in its
commit.
"""
import json
import os
import os.path as osp

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmengine.structures import BaseDataElement, PixelData
from mmseg.structures import SegDataSample
from test_core_regression import _batch as det_semi_batch

from conftest import ROOT, load_config

GOLDEN = osp.join(ROOT, 'tests', 'data', 'method_losses_8ae529d.json')


def _build(config, scope, **overrides):
    from mmkd.registry import MODELS
    init_default_scope(scope)
    cfg = load_config(config)
    for key in ('student', 'student_a', 'student_b'):
        if key in cfg.model:  # the demo's supervised checkpoints: not here
            cfg.model[key].init_cfg = None
    for key, value in overrides.items():
        cfg.model[key] = value
    torch.manual_seed(0)
    return cfg, MODELS.build(cfg.model)


def _floats(losses):
    out = {}
    for key, value in sorted(losses.items()):
        value = sum(value) if isinstance(value, (list, tuple)) else value
        out[key] = float(torch.as_tensor(value).detach().float())
    return out


def _at_iter(it):
    MessageHub.get_current_instance().update_info('iter', it)


# -- detection ---------------------------------------------------------------
def _twin_teachers(model, noise=1e-3, spread=0.0):
    """Both teachers start from student A, teacher B a little apart: their
    detections / maps mostly agree (the consensus keeps some), their scores
    differ (a swap of the teachers changes the numbers). ``spread``: noise
    on teacher A first (a random mmseg segmentor's maps are uniform)."""
    g = torch.Generator().manual_seed(5)
    model.teacher_a.load_state_dict(model.student_a.state_dict())
    with torch.no_grad():
        for p in model.teacher_a.parameters():
            p.add_(spread * torch.randn(p.shape, generator=g))
        model.teacher_b.load_state_dict(model.teacher_a.state_dict())
        for p in model.teacher_b.parameters():
            p.add_(noise * torch.randn(p.shape, generator=g))


def dual_soft_teacher():
    _, model = _build(
        'configs/dual_mean_teacher/demo/dual_soft_teacher_faster_rcnn_r18_'
        'demo_coco_10p.py', 'mmkd',
        pseudo_labeller=dict(type='FixedThreshold', score_thr=0.24),
        # match_iou 0: the consensus as recorded (the IoU floor, 0.5 by
        # default since, has its own test in test_dual_soft_teacher.py)
        match_iou=0.0,
        delta=0.25, agreement_thr=0.3, rpn_pseudo_thr=0.245,
        cls_pseudo_thr=0.24, reg_pseudo_thr=0.06)
    for s in ('a', 'b'):
        getattr(model, f'student_{s}').init_weights()
    _twin_teachers(model)
    model.train()
    inputs, samples = det_semi_batch(with_mask=False)
    torch.manual_seed(1)
    return _floats(model.loss(inputs, samples))


# -- segmentation ------------------------------------------------------------
def _seg_batch(n_sup=2, n_unsup=2, size=32, seed=7):
    g = torch.Generator().manual_seed(seed)

    def samples(n, labelled):
        out = []
        for _ in range(n):
            s = SegDataSample(metainfo=dict(
                img_shape=(size, size), ori_shape=(size, size),
                pad_shape=(size, size)))
            if labelled:
                seg = torch.randint(0, 19, (1, size, size), generator=g)
                seg[:, :4] = 255
                s.gt_sem_seg = PixelData(data=seg)
            out.append(s)
        return out

    # unlabelled images of different contrast: the teachers' confidence
    # and agreement differ from image to image
    contrast = torch.linspace(0.0, 3.0, n_unsup)[:, None, None, None]
    inputs = dict(sup=torch.randn(n_sup, 3, size, size, generator=g),
                  unsup_teacher=contrast * torch.randn(
                      n_unsup, 3, size, size, generator=g),
                  unsup_student=torch.randn(n_unsup, 3, size, size,
                                            generator=g))
    data_samples = dict(sup=samples(n_sup, True),
                        unsup_teacher=samples(n_unsup, False),
                        unsup_student=samples(n_unsup, False))
    return inputs, data_samples


def seg_mean_teacher_cutmix_fp_dynamic():
    cfg = load_config('configs/dynamic_threshold/demo/mean_teacher_fp_'
                      'deeplabv3_r18_demo_cityscapes_1-16_dynamic.py')
    labeller = dict(cfg.model.pseudo_labeller, update_interval=1,
                    min_samples=10, default_high=0.065, default_low=0.055)
    _, model = _build(
        'configs/dynamic_threshold/demo/mean_teacher_fp_deeplabv3_r18_demo_'
        'cityscapes_1-16_dynamic.py', 'mmseg', pseudo_labeller=labeller)
    model.student.init_weights()
    model.teacher.load_state_dict(model.student.state_dict())
    model.train()
    out = {}
    for step in range(2):
        _at_iter(step)
        inputs, samples = _seg_batch(seed=7 + step)
        torch.manual_seed(1 + step)
        losses = _floats(model.loss(inputs, samples))
        out.update({f'step{step}.{k}': v for k, v in losses.items()})
    thresholds = model.pseudo_labeller
    for name in ('tau_high', 'tau_low'):
        if hasattr(thresholds, name):
            out[name] = float(getattr(thresholds, name).float().sum())
    return out


def seg_dual_mean_teacher():
    _, model = _build(
        'configs/dual_mean_teacher/demo/dual_mean_teacher_deeplabv3_mbv2_'
        'demo_cityscapes_1-8.py', 'mmseg',
        # the crops' agreements are 0.3342, 0.3338, 0.3336, 0.3360: τ keeps
        # two, rejects two
        delta=0.3, agreement_thr=0.335)
    for s in ('a', 'b'):
        getattr(model, f'student_{s}').init_weights()
    _twin_teachers(model, noise=0.02, spread=0.1)
    model.train()
    inputs, samples = _seg_batch(n_unsup=4)
    torch.manual_seed(1)
    return _floats(model.loss(inputs, samples))


# -- 3-D ---------------------------------------------------------------------
def _volume_batch(seed=7, shape=(32, 32, 16)):
    g = torch.Generator().manual_seed(seed)
    x_l = [torch.rand(1, *shape, generator=g) for _ in range(2)]
    x_u = [torch.rand(1, *shape, generator=g) for _ in range(2)]
    sup = []
    for x in x_l:
        s = BaseDataElement()
        s.gt_seg_map = (x[0] > 0.6).long()
        sup.append(s)
    return dict(inputs=dict(sup=x_l, unsup_teacher=x_u, unsup_student=x_u),
                data_samples=dict(
                    sup=sup,
                    unsup_teacher=[BaseDataElement() for _ in x_u],
                    unsup_student=[BaseDataElement() for _ in x_u]))


def rail():
    from mmengine.optim import build_optim_wrapper
    cfg, model = _build('configs/rail/demo/rail_vnet_demo_cbct.py', 'mmkd',
                        group_iters=1, rampup_iters=4)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    out = {}
    for step in range(4):
        _at_iter(step)
        torch.manual_seed(10 + step)
        log = model.train_step(_volume_batch(seed=7 + step), optim)
        out.update({f'step{step}.{k}': v for k, v in _floats(log).items()})
    out['params'] = float(sum(p.double().sum()
                              for p in model.parameters()))
    return out


def mean_teacher_3d():
    _, model = _build('configs/mean_teacher/demo/mean_teacher_vnet_demo_'
                      'cbct.py', 'mmkd')
    with torch.no_grad():  # a teacher that differs from the student
        for p in model.teacher.parameters():
            p.add_(0.05 * torch.randn_like(p))
    model.train()
    _at_iter(150)
    batch = _volume_batch()
    torch.manual_seed(1)
    return _floats(model.loss(batch['inputs'], batch['data_samples']))


# -- distillation ------------------------------------------------------------
KD = ('mse', 'cwd', 'maskd', 'acam')


def _distiller(task, loss):
    name = (f'{loss}_kd_faster_rcnn_r34w2_r18_demo_coco.py' if task == 'det'
            else f'{loss}_kd_deeplabv3_r18w2_mbv2_demo_cityscapes.py')
    cfg = load_config(f'configs/acam_kd/demo/{name}')
    _, model = _build(f'configs/acam_kd/demo/{name}',
                      cfg.get('default_scope', 'mmkd'), teacher_ckpt=None)
    model.train()
    torch.manual_seed(3)
    if task == 'det':
        from test_distiller import _det_batch
        inputs, samples = _det_batch(model, size=128)
    else:
        seg_inputs, seg_samples = _seg_batch(n_sup=2, size=64)
        inputs, samples = seg_inputs['sup'], seg_samples['sup']
    _at_iter(100)
    torch.manual_seed(1)
    return _floats(model.loss(inputs, samples))


CASES = dict(
    dual_soft_teacher=dual_soft_teacher,
    seg_mean_teacher_cutmix_fp_dynamic=seg_mean_teacher_cutmix_fp_dynamic,
    seg_dual_mean_teacher=seg_dual_mean_teacher,
    rail=rail,
    mean_teacher_3d=mean_teacher_3d,
    **{f'distill_{task}_{loss}': (lambda t=task, k=loss: _distiller(t, k))
       for task in ('det', 'seg') for loss in KD})
# the terms each case must exercise (a zero would mean no pseudo-label or
# no mask reached them, and the guard would not see them)
NONZERO = dict(
    dual_soft_teacher=('unsup_a_loss_cls', 'unsup_b_loss_bbox',
                       'unsup_a_loss_rpn_bbox', 'unsup_b_num_pseudo_reg'),
    seg_mean_teacher_cutmix_fp_dynamic=('step0.unsup_loss_seg',
                                        'step1.unsup_loss_seg'),
    seg_dual_mean_teacher=('unsup_a_loss_seg', 'unsup_b_loss_seg',
                           'unsup_rejected'),
    mean_teacher_3d=('unsup_loss_consistency',),
)


@pytest.mark.parametrize('name', sorted(CASES))
def test_losses_are_those_recorded_before_the_move(name):
    losses = CASES[name]()
    if os.environ.get('MMKD_RECORD_LOSSES'):
        golden = json.load(open(GOLDEN)) if osp.exists(GOLDEN) else {}
        golden[name] = losses
        with open(GOLDEN, 'w') as f:
            json.dump(golden, f, indent=1, sort_keys=True)
    golden = json.load(open(GOLDEN))[name]
    for key in NONZERO.get(name, ()):
        assert golden[key] > 0, key
    assert sorted(losses) == sorted(golden)
    for key, value in golden.items():
        assert losses[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key
