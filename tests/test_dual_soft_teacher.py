"""Dual Mean-Teacher on Soft Teacher: rejected images add no unsupervised
loss, each student's losses use its own teacher, the ensemble merges both
teachers' boxes by NMS, and the demo config trains, evaluates every member
and the ensemble, and resumes exactly."""
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from conftest import load_config, run_tool

CONFIG = ('configs/dual_mean_teacher/demo/dual_soft_teacher_faster_rcnn_r18_'
          'demo_coco_10p.py')


def _model(**overrides):
    from mmkd.registry import MODELS
    init_default_scope('mmkd')
    cfg = load_config(CONFIG)
    cfg.model.student_a.init_cfg = None
    cfg.model.student_b.init_cfg = None
    for key, value in overrides.items():  # replace, not merge
        cfg.model[key] = value
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def _dets(rows):
    return InstanceData(
        bboxes=torch.tensor([r[:4] for r in rows], dtype=torch.float32)
        .reshape(-1, 4),
        labels=torch.tensor([r[4] for r in rows], dtype=torch.long),
        scores=torch.tensor([r[5] for r in rows], dtype=torch.float32))


def _sample(size=64):
    return DetDataSample(metainfo=dict(
        img_shape=(size, size), ori_shape=(size, size),
        scale_factor=(1., 1.), homography_matrix=torch.eye(3).numpy()))


def _fake_teacher_detections(monkeypatch, model, dets):
    """Each teacher detects ``dets[name]`` (one InstanceData per image)."""
    monkeypatch.setattr(
        model, 'teacher_detections',
        lambda teacher, inputs, samples: (
            model.teacher_a.extract_feat(inputs),
            dets['teacher_a' if teacher is model.teacher_a else
                 'teacher_b']))


def test_disagreeing_teachers_reject_the_image(monkeypatch):
    model = _model()
    dets = dict(teacher_a=[_dets([(0, 0, 20, 20, 0, 0.9)]),
                           _dets([(0, 0, 20, 20, 0, 0.9)])],
                teacher_b=[_dets([(1, 0, 20, 20, 0, 0.8)]),
                           _dets([(40, 40, 60, 60, 1, 0.9)])])
    _fake_teacher_detections(monkeypatch, model, dets)
    targets, info = model.pseudo_label(torch.rand(2, 3, 64, 64),
                                       [_sample(), _sample()])
    assert info['accepted'] == [True, False]
    # image 0: one fused box (score-weighted mean), no ignore region
    assert targets[0].gt_instances.bboxes.tolist() == [
        pytest.approx([0.8 / 1.7, 0, 20, 20])]
    assert len(targets[0].ignored_instances) == 0
    # image 1: both boxes unmatched -> ignore regions
    assert len(targets[1].gt_instances) == 0
    assert len(targets[1].ignored_instances) == 2
    for key in ('reg_unc_a', 'reg_unc_b'):
        assert key in targets[0].gt_instances


def test_dynamic_tiers_apply_to_the_fused_boxes(monkeypatch):
    """With ``DynamicDualThreshold`` as pseudo-labeller the consensus boxes
    are tiered by their fused score: weight 1 above τ_high, the score
    between τ_low and τ_high, an ignore region below τ_low (beside the
    unmatched boxes)."""
    num_classes = load_config(CONFIG).model.student_a.roi_head \
        .bbox_head.num_classes
    model = _model(pseudo_labeller=dict(
        type='DynamicDualThreshold', num_classes=num_classes,
        default_high=0.8, default_low=0.6))
    boxes = [(0, 0, 20, 20, 0), (30, 30, 50, 50, 0), (0, 30, 20, 50, 1)]
    dets = dict(
        teacher_a=[_dets([b + (s, ) for b, s in zip(boxes, (0.9, 0.7, 0.5))]
                         + [(40, 0, 60, 20, 1, 0.95)])],
        teacher_b=[_dets([b + (s, ) for b, s in zip(boxes, (0.9, 0.7, 0.6))])])
    _fake_teacher_detections(monkeypatch, model, dets)
    targets, info = model.pseudo_label(torch.rand(1, 3, 64, 64), [_sample()])
    assert info['accepted'] == [True]  # matched IoU 1, 1, 1 and 0: 0.75
    kept = targets[0].gt_instances
    assert kept.bboxes.tolist() == [[0, 0, 20, 20], [30, 30, 50, 50]]
    assert kept.weights.tolist() == pytest.approx([1.0, 0.7])
    # below τ_low (fused 0.55) and a's unmatched box: ignore regions
    ignored = targets[0].ignored_instances
    assert sorted(ignored.bboxes.tolist()) == [[0, 30, 20, 50],
                                               [40, 0, 60, 20]]


def test_labelled_scores_come_from_both_teachers(monkeypatch):
    """``threshold_scores='labelled'``: the matched boxes of both teachers
    (a consensus box scores the mean of its pair's)."""
    model = _model()
    sample = _sample()
    sample.gt_instances = _dets([(0, 0, 20, 20, 0, 1.0)])

    def predicts(rows):
        def predict(inputs, samples, rescale=True):
            out = DetDataSample()
            out.pred_instances = _dets(rows)
            return [out]
        return predict

    monkeypatch.setattr(model.teacher_a, 'predict', predicts(
        [(0, 0, 20, 20, 0, 0.9), (40, 40, 60, 60, 0, 0.8)]))
    monkeypatch.setattr(model.teacher_b, 'predict', predicts(
        [(1, 0, 20, 20, 0, 0.6), (0, 0, 20, 20, 1, 0.7)]))
    scores, classes = model.labelled_teacher_scores(
        torch.rand(1, 3, 64, 64), [sample])
    assert scores.tolist() == pytest.approx([0.9, 0.6])
    assert classes.tolist() == [0, 0]


def test_every_image_rejected_means_no_unsupervised_loss():
    model = _model()
    losses = model.unsup_loss(torch.rand(2, 3, 64, 64), [None, None],
                              dict(accepted=[False, False]))
    assert list(losses) == ['rejected'] and losses['rejected'] == 1.0


def test_ensemble_merges_both_teachers_by_nms(monkeypatch):
    model = _model()
    model.eval()

    def predictions(rows):
        def predict(inputs, samples):  # as mmdet: into the given samples
            samples[0].pred_instances = _dets(rows)
            return samples
        return predict

    monkeypatch.setattr(model.teacher_a, 'predict', predictions(
        [(0, 0, 20, 20, 0, 0.9), (30, 30, 50, 50, 1, 0.6)]))
    monkeypatch.setattr(model.teacher_b, 'predict', predictions(
        [(1, 1, 20, 20, 0, 0.7), (30, 30, 50, 50, 2, 0.8)]))
    out = model.predict_ensemble('ensemble', torch.zeros(1, 3, 64, 64),
                                 [_sample()])[0].pred_instances
    # the class-0 pair overlaps (IoU 0.9): NMS keeps a's 0.9; the class-1
    # and class-2 boxes are different classes: both stay
    order = out.scores.argsort(descending=True)
    assert out.scores[order].tolist() == pytest.approx([0.9, 0.8, 0.6])
    assert out.labels[order].tolist() == [0, 2, 1]


@pytest.mark.slow
def test_dual_soft_teacher_trains_evaluates_and_resumes(tmp_path, demo_root):
    from test_soft_teacher_training import _demo_config

    from test_training import train_losses
    name = 'dual_soft_teacher_faster_rcnn_r18_demo_coco_10p'

    def config(iters, val):
        path = _demo_config(tmp_path, demo_root, name, iters, ckpt_interval=2,
                            val=val)
        cfg = load_config(path)
        cfg.model.update(delta=0.0, agreement_thr=0.0, rpn_pseudo_thr=0.0,
                         cls_pseudo_thr=0.0)
        cfg.dump(path)
        return path

    r = run_tool('tools/train.py', config(2, True), '--work-dir',
                 str(tmp_path / 'val'))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    for key in ('unsup_a_loss_cls', 'unsup_b_loss_cls', 'unsup_rejected',
                'ensemble/coco/bbox_mAP', 'teacher_b/coco/bbox_mAP'):
        assert key in out, key
    straight, resumed = str(tmp_path / 'straight'), str(tmp_path / 'resumed')
    r = run_tool('tools/train.py', config(4, False), '--work-dir', straight)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    r = run_tool('tools/train.py', config(2, False), '--work-dir', resumed)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    r = run_tool('tools/train.py', config(4, False), '--work-dir', resumed,
                 '--resume')
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    a, b = train_losses(straight), train_losses(resumed)
    for i in range(1, 5):
        assert b[i] == pytest.approx(a[i], rel=1e-5, abs=1e-6), (i, a, b)
    assert osp.exists(osp.join(resumed, 'iter_4.pth'))


def test_each_student_learns_with_its_own_teachers_features_and_boxes(
        monkeypatch):
    """Student b's Soft Teacher losses get teacher b's features (its
    background scores) and each pseudo box's ``reg_unc_b`` (teacher b's
    box uncertainty), student a's teacher a's."""
    from mmkd.detection.soft_teacher import SoftTeacher
    model = _model()
    seen = {}

    def capture(self, student, teacher, inputs, samples, teacher_feats):
        pair = 'a' if student is self.student_a else 'b'
        assert teacher is getattr(self, f'teacher_{pair}')
        seen[pair] = (teacher_feats[0],
                      samples[0].gt_instances.reg_unc.tolist())
        return dict(loss_x=inputs.sum() * 0)

    monkeypatch.setattr(SoftTeacher, 'pair_unsup_loss', capture)
    feats = dict(teacher_a=(torch.zeros(1, 1),), teacher_b=(torch.ones(1,
                                                                       1),))
    s = _sample()
    s.gt_instances = InstanceData(
        bboxes=torch.tensor([[0., 0., 20., 20.]]), labels=torch.tensor([0]),
        scores=torch.tensor([0.9]), reg_unc_a=torch.tensor([0.01]),
        reg_unc_b=torch.tensor([0.07]))
    model.unsup_loss(torch.rand(1, 3, 64, 64), [s],
                     dict(teacher_feats=feats, accepted=[True]))
    assert seen['a'][0] is not seen['b'][0]
    assert seen['a'][0].sum() == 0 and seen['b'][0].sum() == 1
    assert seen['a'][1] == pytest.approx([0.01])
    assert seen['b'][1] == pytest.approx([0.07])
