"""Soft Teacher: the paper's formulas on hand-computed cases, and the
student's losses wired to the teacher the way the paper says."""
import math

import numpy as np
import pytest
import torch
from mmdet.models.losses import CrossEntropyLoss
from mmdet.structures import DetDataSample
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from conftest import (
    assert_plain_checkpoint_fills_members,
    config_file,
    load_config,
)
from mmkd.detection import (
    jitter_boxes,
    jitter_uncertainty,
    soft_teacher_cls_loss,
)


def _ce(logits, label):
    return -torch.log_softmax(torch.tensor(logits), -1)[label].item()


def test_soft_teacher_cls_loss_on_a_hand_computed_case():
    # 2 classes + background (index 2): one foreground, two backgrounds
    logits = [[2.0, 0.5, -1.0], [0.1, 0.2, 1.5], [1.0, 1.0, 0.0]]
    labels = torch.tensor([0, 2, 2])
    bg_prob = torch.tensor([0.3, 0.8, 0.4])  # the fg's 0.3 is not used
    loss = soft_teacher_cls_loss(CrossEntropyLoss(), torch.tensor(logits),
                                 labels, bg_prob, num_classes=2)
    # (Σ_fg CE + Σ_bg p_bg CE) / max(N_fg + Σ_bg p_bg, 1)
    expected = (_ce(logits[0], 0) + 0.8 * _ce(logits[1], 2)
                + 0.4 * _ce(logits[2], 2)) / (1 + 0.8 + 0.4)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    # a confident-background teacher makes a background proposal count more
    more = soft_teacher_cls_loss(CrossEntropyLoss(), torch.tensor(logits),
                                 labels, torch.tensor([0.3, 0.8, 0.9]), 2)
    assert more.item() != pytest.approx(loss.item())


def test_soft_teacher_cls_loss_normaliser_is_at_least_one():
    logits = torch.tensor([[0.3, 0.1, 2.0]])
    loss = soft_teacher_cls_loss(CrossEntropyLoss(), logits,
                                 torch.tensor([2]), torch.tensor([0.25]), 2)
    assert loss.item() == pytest.approx(0.25 * _ce(logits[0].tolist(), 2),
                                        rel=1e-5)


def test_jitter_uncertainty_on_a_known_box_set():
    # box 0: two refinements 2 px apart in every coordinate; box 1: agreed
    refined = torch.tensor([[[0., 0., 10., 10.], [5., 5., 25., 45.]],
                            [[2., 2., 12., 12.], [5., 5., 25., 45.]]])
    unc = jitter_uncertainty(refined)
    # std of (0, 2) (unbiased) = √2; the mean box is 10×10
    assert unc[0].item() == pytest.approx(math.sqrt(2) / 10, rel=1e-5)
    assert unc[1].item() == 0
    # width and height normalise x and y separately: 20 wide, 40 high
    refined[1, 1] = torch.tensor([5., 7., 25., 47.])
    sy = torch.tensor([5., 7.]).std().item()
    assert jitter_uncertainty(refined)[1].item() == pytest.approx(
        (sy / 40 * 2) / 4, rel=1e-5)
    assert jitter_uncertainty(torch.zeros(10, 0, 4)).shape == (0,)


def test_jitter_boxes_spread_is_scale_times_size():
    boxes = torch.tensor([[10., 20., 110., 70.]])  # 100 × 50
    g = torch.Generator().manual_seed(0)
    jit = jitter_boxes(boxes, 20000, 0.06, generator=g)
    assert jit.shape == (20000, 1, 4)
    std = (jit - boxes).std(dim=0)[0]
    assert std.tolist() == pytest.approx([6., 3., 6., 3.], rel=0.03)


# -- the model ---------------------------------------------------------------
def _model(mask=False, name=None):
    from mmkd.registry import MODELS
    init_default_scope('mmkd')
    name = name or ('soft_teacher_mask_rcnn_r18_demo_coco_10p.py' if mask
                    else 'soft_teacher_faster_rcnn_r18_demo_coco_10p.py')
    cfg = load_config(config_file(name))
    cfg.model.student.init_cfg = None
    model = MODELS.build(cfg.model)
    model.teacher.load_state_dict(model.student.state_dict())
    return model


def _image_batch(n=2, size=64):
    torch.manual_seed(0)
    inputs = torch.randn(n, 3, size, size)
    samples = []
    for i in range(n):
        s = DetDataSample(metainfo=dict(
            img_shape=(size, size), ori_shape=(size, size),
            pad_shape=(size, size), scale_factor=(1., 1.), img_id=i,
            homography_matrix=np.eye(3, dtype=np.float32),
            teacher_homography_matrix=np.eye(3),
            teacher_img_shape=(size, size)))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[8., 8., 40., 36.]]),
            labels=torch.tensor([1]), scores=torch.tensor([0.95]),
            reg_unc=torch.tensor([0.01]))
        samples.append(s)
    return inputs, samples


def test_background_proposals_are_weighted_by_the_teacher(monkeypatch):
    model = _model()
    inputs, samples = _image_batch()
    x = model.student.extract_feat(inputs)
    proposals = [InstanceData(bboxes=torch.tensor(
        [[0., 0., 20., 20.], [30., 30., 60., 60.], [5., 40., 25., 60.]]))
        for _ in samples]
    no_boxes = [s.gt_instances[:0] for s in samples]
    teacher_x = model.teacher.extract_feat(inputs)

    def loss_with(p):
        monkeypatch.setattr(model, 'teacher_background_prob',
                            lambda teacher, boxes, *a: torch.full(
                                (sum(len(b) for b in boxes),), p))
        torch.manual_seed(1)
        return model.rcnn_cls_loss(
            model.student, model.teacher, x, proposals, no_boxes, samples,
            teacher_x)['loss_cls']

    # no foreground: the loss is Σ p·CE / max(Σ p, 1)
    assert loss_with(0.0).item() == 0.0
    full = loss_with(1.0)
    assert full.item() > 0
    # Σ p = 6 · 0.5 = 3 ≥ 1: the weights cancel
    assert loss_with(0.5).item() == pytest.approx(full.item(), rel=1e-5)
    # Σ p = 6 · 0.1 < 1: the normaliser is 1
    assert loss_with(0.1).item() == pytest.approx(0.6 * full.item(), rel=1e-4)


def test_teacher_background_prob_is_the_teachers_softmax():
    model = _model()
    inputs, samples = _image_batch(n=1)
    feats = model.teacher.extract_feat(inputs)
    boxes = torch.tensor([[4., 4., 30., 30.], [10., 2., 50., 40.]])
    p = model.teacher_background_prob(model.teacher, [boxes], samples,
                                      feats)
    from mmdet.structures.bbox import bbox2roi
    logits = model.teacher.roi_head._bbox_forward(
        feats, bbox2roi([boxes]))['cls_score']
    assert p.tolist() == pytest.approx(logits.softmax(-1)[:, -1].tolist())
    assert model.teacher_background_prob(model.teacher, [boxes[:0]],
                                         samples, feats).shape == (0,)


def test_regression_from_positives_only_equals_the_full_roi_loss():
    """The pos-only shortcut must give mmdet's BBoxHead.loss value."""
    from mmdet.structures.bbox import bbox2roi
    model = _model()
    inputs, samples = _image_batch()
    x = model.student.extract_feat(inputs)
    torch.manual_seed(3)
    # two proposals on the pseudo box, 30 random ones
    boxes = torch.cat([
        torch.tensor([[9., 9., 41., 35.], [6., 10., 38., 38.]]),
        torch.cat([torch.rand(30, 2) * 30, torch.rand(30, 2) * 30 + 32], 1)])
    proposals = [InstanceData(bboxes=boxes.clone()) for _ in samples]
    inst = [s.gt_instances for s in samples]
    torch.manual_seed(4)
    ours = model.rcnn_reg_loss(model.student, x, proposals, inst)
    torch.manual_seed(4)
    sampling = model._sample(model.student, x, proposals, inst)
    head = model.student.roi_head
    out = head._bbox_forward(x, bbox2roi([s.priors for s in sampling]))
    targets = head.bbox_head.get_targets(sampling,
                                         model.student.train_cfg.rcnn)
    ref = head.bbox_head.loss(out['cls_score'], out['bbox_pred'],
                              bbox2roi([s.priors for s in sampling]),
                              *targets)['loss_bbox']
    assert ours.item() > 0
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)
    # and gradients reach the student's box head
    ours.backward()
    assert model.student.roi_head.bbox_head.fc_reg.weight.grad.abs().sum() > 0


def test_a_middle_tier_box_weighs_its_regression_by_its_score():
    """Dual thresholds (methods.md §3): a pseudo box between τ_low and
    τ_high has weight = score in its RoIs' losses, regression included.
    Image 0's box at weight 0.5, image 1's at 1: the loss is the weight-1
    loss minus half of image 0's share."""
    model = _model()
    inputs, samples = _image_batch()
    x = model.student.extract_feat(inputs)
    boxes = torch.tensor([[9., 9., 41., 35.], [6., 10., 38., 38.],
                          [40., 40., 60., 60.]])
    proposals = [InstanceData(bboxes=boxes.clone()) for _ in samples]

    def loss(w0, w1):
        inst = [s.gt_instances.clone() for s in samples]
        inst[0].weights = torch.tensor([w0])
        inst[1].weights = torch.tensor([w1])
        torch.manual_seed(4)
        return model.rcnn_reg_loss(model.student, x, proposals, inst).item()

    full, only_1 = loss(1.0, 1.0), loss(0.0, 1.0)
    assert 0 < only_1 < full
    assert loss(0.5, 1.0) == pytest.approx(only_1 + 0.5 * (full - only_1),
                                           rel=1e-5)


def test_no_pseudo_boxes_gives_zero_unsupervised_loss_not_nan():
    model = _model()
    model.train()
    inputs, samples = _image_batch()
    for s in samples:
        s.gt_instances = s.gt_instances[:0]
    teacher_x = model.teacher.extract_feat(inputs)
    losses = model.unsup_loss(inputs, samples, dict(teacher_feats=teacher_x))
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    assert losses['loss_bbox'].item() == 0
    assert losses['num_pseudo_cls'].item() == 0
    total.backward()  # the graph is intact (DDP needs every parameter)


def test_pseudo_boxes_move_into_the_student_view():
    model = _model()
    inputs, samples = _image_batch(n=1)
    t = samples[0]
    s = t.clone()
    # the student's view is the original flipped horizontally (width 64)
    s.set_metainfo(dict(homography_matrix=np.array(
        [[-1, 0, 64], [0, 1, 0], [0, 0, 1]], np.float32)))
    inst = InstanceData(bboxes=torch.tensor([[8., 8., 40., 36.]]),
                        labels=torch.tensor([1]), scores=torch.tensor([0.95]),
                        reg_unc=torch.tensor([0.0]))
    t.gt_instances = inst
    x, out = model.to_student_view([t], inputs, [s])
    assert x is inputs  # Soft Teacher does not mix images
    moved = out[0]
    assert moved.gt_instances.bboxes.tolist() == [[24., 8., 56., 36.]]
    assert np.allclose(moved.teacher_homography_matrix, t.homography_matrix)


def test_pseudo_masks_are_warped_with_their_boxes():
    model = _model(mask=True)
    inputs, samples = _image_batch(n=1)
    t = samples[0]
    s = t.clone()
    s.set_metainfo(dict(homography_matrix=np.array(
        [[-1, 0, 64], [0, 1, 0], [0, 0, 1]], np.float32)))
    mask = torch.zeros(1, 64, 64, dtype=torch.bool)
    mask[0, 8:36, 8:40] = True
    inst = InstanceData(bboxes=torch.tensor([[8., 8., 40., 36.]]),
                        labels=torch.tensor([1]), scores=torch.tensor([0.95]),
                        reg_unc=torch.tensor([0.0]), masks=mask)
    t.gt_instances = inst
    moved = model.to_student_view([t], inputs, [s])[1][0].gt_instances.masks
    expected = np.zeros((64, 64), np.uint8)
    expected[8:36, 24:56] = 1
    assert moved.masks.shape == (1, 64, 64)
    # exactly mmdet's own flip of the mask (pixel i -> 63 - i)
    assert (moved.masks[0] == mask[0].numpy()[:, ::-1]).all()
    assert (moved.masks[0] == expected).all()


def test_batched_jitter_uncertainty_per_image():
    model = _model()
    inputs, samples = _image_batch(n=2)
    x = model.teacher.extract_feat(inputs)
    insts = [samples[0].gt_instances, samples[1].gt_instances[:0]]
    model.jitter_scale = 0.0  # identical copies: no spread
    unc = model.regression_uncertainty(model.teacher, x, insts, samples)
    assert [len(u) for u in unc] == [1, 0]
    # identical copies: no spread but the RoI head's float noise (the
    # batched forward is not bit-deterministic on every CPU)
    assert unc[0].item() == pytest.approx(0, abs=1e-6)
    model.jitter_scale = 0.06
    assert model.regression_uncertainty(model.teacher, x, insts,
                                        samples)[0].item() > 0


def test_load_from_a_plain_detector_checkpoint_fills_student_and_teacher(
        tmp_path):
    """A supervised mmdet checkpoint (keys without ``student.``) as
    ``load_from``: both members get its weights, not random ones."""
    from mmkd.registry import MODELS
    model = _model()
    cfg = load_config('configs/supervised/demo/faster_rcnn_r18_demo_coco_'
                      '10p.py')
    torch.manual_seed(5)
    detector = MODELS.build(cfg.model)
    detector.init_weights()
    assert_plain_checkpoint_fills_members(model, detector, tmp_path)


def test_scoring_only_the_negatives_gives_the_loss_of_scoring_all():
    """The teacher scores the negative RoIs alone: the loss must equal
    eq. (3) with every sampled RoI scored."""
    from mmdet.structures.bbox import bbox2roi

    from mmkd.detection import soft_teacher_cls_loss
    model = _model()
    inputs, samples = _image_batch()
    x = model.student.extract_feat(inputs)
    teacher_x = model.teacher.extract_feat(inputs)
    # two proposals on the pseudo box (positives), three off it
    proposals = [InstanceData(bboxes=torch.tensor(
        [[8., 8., 40., 36.], [9., 8., 41., 37.], [0., 0., 20., 20.],
         [30., 30., 60., 60.], [5., 40., 25., 60.]])) for _ in samples]
    gts = [s.gt_instances for s in samples]
    torch.manual_seed(1)
    loss = model.rcnn_cls_loss(model.student, model.teacher, x, proposals,
                               gts, samples, teacher_x)['loss_cls']
    torch.manual_seed(1)
    sampling = model._sample(model.student, x, proposals, gts)
    assert sum(len(r.pos_priors) for r in sampling) > 0
    head = model.student.roi_head
    labels = head.bbox_head.get_targets(sampling,
                                        model.student.train_cfg.rcnn)[0]
    scores = head._bbox_forward(x, bbox2roi([r.priors for r in sampling]))
    bg_all = model.teacher.roi_head._bbox_forward(
        teacher_x, bbox2roi([r.priors for r in sampling])
    )['cls_score'].softmax(-1)[:, -1]
    expected = soft_teacher_cls_loss(head.bbox_head.loss_cls,
                                     scores['cls_score'], labels, bg_all,
                                     head.bbox_head.num_classes)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_pseudo_label_rpn_cfg_changes_only_the_teachers_proposals():
    model = _model()
    inputs, samples = _image_batch()
    x = model.teacher.extract_feat(inputs)
    default = model.teacher_proposals(model.teacher, x, samples)
    test_cfg = model.teacher.rpn_head.predict(x, samples, rescale=False)
    assert all(torch.equal(a.bboxes, b.bboxes)
               for a, b in zip(default, test_cfg))
    # the demo config with the cheaper teacher pass
    fast = _model(
        name='soft_teacher_faster_rcnn_r18_demo_coco_10p_100proposals.py')
    fast.load_state_dict(model.state_dict())
    fewer = fast.teacher_proposals(fast.teacher, x, samples)
    assert all(len(p) == 100 for p in fewer) and len(default[0]) > 100
    # the 100 kept are the default's top 100 (the same NMS, cut earlier)
    assert all(torch.equal(a.bboxes, b.bboxes[:100])
               for a, b in zip(fewer, default))
    assert fast.teacher.rpn_head.test_cfg.max_per_img == 300  # evaluation


def test_pseudo_label_records_leave_the_device_in_one_transfer():
    """The statistics hook's records: boxes in original-image coordinates
    above ``record_score_thr``, every image's in one transfer (there were
    three per image, and a sync per filter)."""
    from test_dual_consensus import _OnGPU

    from mmkd.registry import TASK_UTILS
    model = _model()
    model.record_score_thr = 0.5
    statistics = TASK_UTILS.build(dict(model.pseudo_label_statistics(),
                                       classes=('a', 'b', 'c')))
    _, samples = _image_batch()
    samples[1].gt_instances = InstanceData(
        bboxes=torch.tensor([[1., 2., 9., 9.], [4., 4., 20., 30.]]),
        labels=torch.tensor([2, 0]), scores=torch.tensor([0.3, 0.8]))
    for s in samples:
        for key in ('bboxes', 'labels', 'scores'):
            setattr(s.gt_instances, key,
                    getattr(s.gt_instances, key).as_subclass(_OnGPU))
    _OnGPU.transfers = 0
    records = statistics.records_of(samples)
    assert _OnGPU.transfers == 1
    assert [r['img_id'] for r in records] == [0, 1]
    assert records[0]['bboxes'].tolist() == [[8., 8., 40., 36.]]
    assert records[1]['bboxes'].tolist() == [[4., 4., 20., 30.]]
    assert records[1]['labels'].tolist() == [0]
    assert records[1]['labels'].dtype == torch.long
    assert records[1]['scores'].tolist() == pytest.approx([0.8])
