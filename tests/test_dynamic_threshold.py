"""Dynamic dual-threshold pseudo-labelling: 2-means on hand-made scores,
thresholds that follow the score distribution, defaults for classes without
samples, the three tiers for boxes and pixels, the state in checkpoints and
``--resume``, and its use by SemiSegmentor and SoftTeacher."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from conftest import load_config, run_tool
from mmkd.teacher_student import DynamicDualThreshold
from mmkd.teacher_student.pseudo_label import two_means_1d

SEG_CONFIG = ('configs/dynamic_threshold/demo/'
              'mean_teacher_deeplabv3_mbv2_demo_cityscapes_1-8_dynamic.py')
DET_CONFIG = ('configs/dynamic_threshold/demo/'
              'soft_teacher_faster_rcnn_r18_demo_coco_10p_dynamic.py')


def test_two_means_on_hand_made_scores():
    scores = torch.tensor([[0.1, 0.2, 0.3, 0.8, 0.9, 1.0],
                           [0.5, 0.5, 0.5, 0.5, 0.0, 0.0]])
    valid = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    lo, hi = two_means_1d(scores, valid)
    assert lo[0].item() == pytest.approx(0.2)
    assert hi[0].item() == pytest.approx(0.9)
    assert lo[1].item() == hi[1].item() == pytest.approx(0.5)
    lo, hi = two_means_1d(scores, torch.zeros_like(valid))
    assert torch.isnan(lo).all() and torch.isnan(hi).all()


def _labeller(**kw):
    args = dict(num_classes=3, update_interval=10, buffer_size=100,
                min_samples=20)
    args.update(kw)
    return DynamicDualThreshold(**args)


def _bimodal(low, high, n=100, spread=0.02, seed=0):
    g = torch.Generator().manual_seed(seed)
    noise = (torch.rand(n, generator=g) - 0.5) * spread
    return torch.cat([low + noise[:n // 2], high + noise[n // 2:]])


def test_thresholds_follow_the_score_distribution():
    lab = _labeller()
    lab.observe(_bimodal(0.3, 0.7), torch.zeros(100, dtype=torch.long))
    lab.update()
    assert lab.tau_low[0].item() == pytest.approx(0.3, abs=0.01)
    assert lab.tau_high[0].item() == pytest.approx(0.7, abs=0.01)
    # the teacher grows confident: the ring buffer forgets the old scores
    # and both thresholds rise
    lab.observe(_bimodal(0.6, 0.95), torch.zeros(100, dtype=torch.long))
    lab.update()
    assert lab.tau_low[0].item() == pytest.approx(0.6, abs=0.01)
    assert lab.tau_high[0].item() == pytest.approx(0.95, abs=0.01)
    # classes 1 (no scores) and 2 (fewer than min_samples) keep the defaults
    lab.observe(torch.full((10, ), 0.99), torch.full((10, ), 2))
    lab.update()
    assert lab.tau_high[1:].tolist() == pytest.approx([0.9, 0.9])
    assert lab.tau_low[1:].tolist() == pytest.approx([0.5, 0.5])


def test_momentum_smooths_and_updates_come_at_the_interval():
    lab = _labeller(momentum=0.5)
    lab.observe(_bimodal(0.3, 0.7), torch.zeros(100, dtype=torch.long))
    lab.maybe_update(5)  # not due
    assert lab.tau_high[0].item() == pytest.approx(0.9)
    lab.maybe_update(10)
    # τ = 0.5 · default + 0.5 · centre
    assert lab.tau_high[0].item() == pytest.approx(0.8, abs=0.01)
    assert lab.tau_low[0].item() == pytest.approx(0.4, abs=0.01)
    assert not lab.update_due(10)  # once per iteration


def test_observe_skips_ignored_labels_and_caps_a_class_per_call():
    lab = _labeller(max_observed_per_class=30)
    lab.observe(torch.rand(200), torch.tensor([0, 255] * 100))
    assert lab.num_observed.tolist() == [30, 0, 0]


def test_box_tiers_on_a_hand_made_case():
    lab = _labeller()
    lab.tau_high.copy_(torch.tensor([0.8, 0.6, 0.9]))
    lab.tau_low.copy_(torch.tensor([0.4, 0.3, 0.5]))
    preds = InstanceData(
        bboxes=torch.arange(24.).reshape(6, 4),
        scores=torch.tensor([0.85, 0.5, 0.2, 0.6, 0.25, 0.95]),
        labels=torch.tensor([0, 0, 0, 1, 1, 2]))
    kept, weights = lab(preds)
    assert kept.scores.tolist() == pytest.approx([0.85, 0.5, 0.6, 0.95])
    assert weights.tolist() == pytest.approx([1.0, 0.5, 1.0, 1.0])
    ignored = lab.ignored(preds)
    assert ignored.scores.tolist() == pytest.approx([0.2, 0.25])


def test_pixel_tiers_on_a_hand_made_case():
    lab = _labeller(ignore_index=255)
    lab.tau_high.copy_(torch.tensor([0.8, 0.7, 0.9]))
    lab.tau_low.copy_(torch.tensor([0.5, 0.4, 0.6]))
    # 4 pixels: class 0 at 0.9 (hard), class 1 at 0.6 (soft), class 0 at
    # 0.45 (ignored), class 2 at 0.65 (soft)
    probs = torch.tensor([[0.9, 0.05, 0.05], [0.2, 0.6, 0.2],
                          [0.45, 0.3, 0.25], [0.2, 0.15, 0.65]]).t()
    probs = probs.reshape(3, 1, 4)
    label, weight = lab(probs)
    assert label.tolist() == [[0, 1, 255, 2]]
    assert weight[0].tolist() == pytest.approx([1.0, 0.6, 0.0, 0.65])


def test_thresholds_are_in_the_model_state_dict(tmp_path):
    from mmkd.registry import MODELS
    init_default_scope('mmseg')
    cfg = load_config(SEG_CONFIG)
    cfg.model.student.init_cfg = None
    model = MODELS.build(cfg.model)
    model.pseudo_labeller.tau_high[3] = 0.77
    state = model.state_dict()
    assert 'pseudo_labeller.tau_high' in state
    assert 'pseudo_labeller.score_buffer' in state
    other = MODELS.build(cfg.model)
    other.load_state_dict(state)
    assert other.pseudo_labeller.tau_high[3].item() == pytest.approx(0.77)


def test_labeller_classes_must_match_the_head():
    from mmkd.registry import MODELS
    init_default_scope('mmseg')
    cfg = load_config(SEG_CONFIG)
    cfg.model.student.init_cfg = None
    cfg.model.pseudo_labeller.num_classes = 5
    with pytest.raises(ValueError, match='num_classes=5 but the student '
                       'predicts 19'):
        MODELS.build(cfg.model)


def test_segmentor_scores_labelled_pixels_it_predicts_right(monkeypatch):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from mmkd.registry import MODELS
    init_default_scope('mmseg')
    cfg = load_config(SEG_CONFIG)
    cfg.model.student.init_cfg = None
    model = MODELS.build(cfg.model)
    logits = torch.zeros(1, 19, 1, 3)
    logits[0, 2, 0, 0] = 5.0  # right, class 2
    logits[0, 4, 0, 1] = 5.0  # wrong: the label is 3
    logits[0, 7, 0, 2] = 2.0  # right, class 7
    monkeypatch.setattr(model, 'teacher_probs',
                        lambda inputs: logits.softmax(1))
    sample = SegDataSample(metainfo=dict(img_shape=(1, 3)))
    sample.gt_sem_seg = PixelData(data=torch.tensor([[[2, 3, 7]]]))
    scores, labels = model.labelled_teacher_scores(torch.zeros(1, 3, 1, 3),
                                                   [sample])
    assert labels.tolist() == [2, 7]
    p = logits[0, :, 0].softmax(0).max(0).values
    assert scores.tolist() == pytest.approx([p[0].item(), p[2].item()])


def _det_model():
    from mmkd.registry import MODELS
    init_default_scope('mmkd')
    cfg = load_config(DET_CONFIG)
    cfg.model.student.init_cfg = None
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def test_soft_teacher_weights_soft_boxes_and_ignores_background_in_ignore_regions():  # noqa: E501
    from mmdet.structures import DetDataSample
    model = _det_model()
    model.train()
    size = 64
    inputs = torch.rand(1, 3, size, size)
    sample = DetDataSample(metainfo=dict(img_shape=(size, size),
                                         homography_matrix=torch.eye(3),
                                         teacher_homography_matrix=torch.eye(3),
                                         teacher_img_shape=(size, size)))
    x = model.student.extract_feat(inputs)
    teacher_x = model.teacher.extract_feat(inputs)
    box = torch.tensor([[4., 4., 28., 28.]])
    proposals = [InstanceData(bboxes=torch.tensor(
        [[4., 4., 28., 28.], [5., 5., 28., 28.], [36., 36., 60., 60.],
         [35., 36., 60., 61.]]))]
    model.teacher_background_prob = lambda teacher, boxes, *a: torch.ones(
        sum(len(b) for b in boxes))

    def cls_loss(weight, ignore):
        inst = InstanceData(bboxes=box, labels=torch.tensor([1]),
                            scores=torch.tensor([0.7]),
                            weights=torch.tensor([weight]))
        s = sample.clone()
        s.ignored_instances = InstanceData(
            bboxes=torch.tensor([[36., 36., 60., 60.]]) if ignore
            else torch.zeros(0, 4), labels=torch.tensor([0] if ignore else []))
        torch.manual_seed(3)
        return model.rcnn_cls_loss(
            model.student, model.teacher, x, proposals, [inst], [s],
            teacher_x)['loss_cls'].item()

    base = cls_loss(1.0, False)
    # a soft box (weight 0.5) lowers the foreground share of the loss
    assert cls_loss(0.5, False) != pytest.approx(base)
    # background RoIs inside the ignore region drop out of the loss
    assert cls_loss(1.0, True) != pytest.approx(base)
    sampling = model._sample(model.student, x, proposals, [InstanceData(
        bboxes=box, labels=torch.tensor([1]))])
    s = sample.clone()
    s.ignored_instances = InstanceData(bboxes=torch.tensor(
        [[36., 36., 60., 60.]]), labels=torch.tensor([0]))
    flags = model.in_ignore_region(sampling, [s])
    neg = sampling[0].neg_priors
    expect = [False] * len(sampling[0].pos_priors) + [
        bool(b[0] >= 30) for b in neg]
    assert flags.tolist() == expect and any(expect)


@pytest.mark.slow
def test_dynamic_segmentation_resumes_with_the_same_thresholds(tmp_path,
                                                               demo_root):
    from test_training import train_losses
    root = osp.join(demo_root, 'cityscapes_demo') + '/'

    def config(iters):
        cfg = load_config(SEG_CONFIG)
        cfg.model.student.init_cfg = None
        cfg.model.pseudo_labeller.update(update_interval=2, min_samples=5)
        for part in ('labeled', 'unlabeled'):
            cfg.train_dataloader.dataset[part].data_root = root
        cfg.train_cfg.max_iters = iters
        cfg.train_cfg.val_interval = 10**6
        cfg.default_hooks.logger.interval = 1
        cfg.default_hooks.checkpoint.update(interval=3, save_best=None,
                                            max_keep_ckpts=-1)
        for key in ('val_cfg', 'val_dataloader', 'val_evaluator'):
            cfg[key] = None
        for hook in cfg.custom_hooks:
            if 'interval' in hook:
                hook.interval = 1
            if 'image_interval' in hook:
                hook.image_interval = 1
        path = str(tmp_path / f'dyn_{iters}.py')
        cfg.dump(path)
        return path

    straight, resumed = str(tmp_path / 'straight'), str(tmp_path / 'resumed')
    r = run_tool('tools/train.py', config(6), '--work-dir', straight)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    assert 'thr/road_high' in out
    # the pictures go through the runner's visualizer (LocalVisBackend)
    assert vis_images(straight, 'pseudo_thresholds_*.png')
    # image_interval=1 (set above with every hook's interval): 4 pictures
    # per step
    assert vis_images(straight, 'pseudo_labels_0_6.png')
    r = run_tool('tools/train.py', config(3), '--work-dir', resumed)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    r = run_tool('tools/train.py', config(6), '--work-dir', resumed,
                 '--resume')
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    a, b = train_losses(straight), train_losses(resumed)
    for i in range(1, 7):
        assert b[i] == pytest.approx(a[i], rel=1e-5, abs=1e-6), (i, a, b)
    sa = torch.load(osp.join(straight, 'iter_6.pth'), weights_only=False)
    sb = torch.load(osp.join(resumed, 'iter_6.pth'), weights_only=False)
    for key in ('tau_high', 'tau_low', 'num_observed', 'score_buffer'):
        va = sa['state_dict'][f'pseudo_labeller.{key}']
        vb = sb['state_dict'][f'pseudo_labeller.{key}']
        assert torch.equal(va, vb), key
    # the thresholds moved away from the defaults during the run
    assert not torch.allclose(sa['state_dict']['pseudo_labeller.tau_high'],
                              torch.full((19, ), 0.9))
    assert len(sb['pseudo_threshold_history']) == 6


@pytest.mark.slow
def test_dynamic_soft_teacher_config_trains(tmp_path, demo_root):
    from test_soft_teacher_training import _demo_config
    name = 'soft_teacher_faster_rcnn_r18_demo_coco_10p_dynamic'
    path = _demo_config(tmp_path, demo_root, name, 3)
    cfg = load_config(path)
    cfg.model.pseudo_labeller.update(update_interval=1, min_samples=5)
    cfg.custom_hooks[2].interval = 1
    cfg.dump(path)
    r = run_tool('tools/train.py', path, '--work-dir', str(tmp_path / 'wd'))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    last = out.split('Iter(train) [3/3]')[1].split('\n')[0]
    for key in ('unsup_num_pseudo_ignored', 'thr/', 'pseudo/precision'):
        assert key in last, key
    assert vis_images(str(tmp_path / 'wd'), 'pseudo_thresholds_3.png')


def vis_images(work_dir, pattern):
    """The visualizer images of a run (LocalVisBackend's folder)."""
    import glob
    return glob.glob(osp.join(work_dir, '*', 'vis_data', 'vis_image',
                              pattern))


def test_display_images_undo_the_data_preprocessor():
    from mmkd.registry import MODELS
    init_default_scope('mmseg')
    cfg = load_config(SEG_CONFIG)
    cfg.model.student.init_cfg = None
    model = MODELS.build(cfg.model)
    pre = model.data_preprocessor.data_preprocessor
    bgr = torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8)
    inputs = ((bgr.flip(0).float() - pre.mean) / pre.std)[None]  # as packed
    from mmkd.engine.hooks.pseudo_label_stats_hook import display_images
    image = display_images(model.data_preprocessor, inputs)[0]
    assert image.shape == (8, 8, 3)
    assert (image == bgr.flip(0).permute(1, 2, 0).numpy()).all()  # RGB


def test_segmentation_pictures_colour_labels_and_blacken_ignored():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from mmkd.segmentation import MapPseudoLabelStatistics
    palette = [[10 * c, 5 * c, 200 - c] for c in range(19)]
    stats = MapPseudoLabelStatistics([f'c{i}' for i in range(19)],
                                     palette=palette)
    target = SegDataSample()
    target.gt_sem_seg = PixelData(data=torch.tensor([[[3, 255], [7, 3]]]))
    target.hidden_sem_seg = PixelData(data=torch.tensor([[[3, 3], [7, 7]]]))
    image = np.full((2, 2, 3), 99, np.uint8)
    picture = stats.draw([image], [target])[0]
    k = 4  # tiny panels are drawn 4x larger
    assert picture.shape == (2 * k, 6 * k, 3)  # image | pseudo | hidden
    picture = picture[::k, ::k]
    assert (picture[:, :2] == 99).all()
    assert picture[0, 2].tolist() == palette[3]
    assert picture[0, 3].tolist() == [0, 0, 0]  # ignored
    assert picture[1, 5].tolist() == palette[7]


def test_detection_pictures_draw_each_tier_in_its_colour():
    from mmdet.structures import DetDataSample

    from mmkd.detection import BoxPseudoLabelStatistics
    stats = BoxPseudoLabelStatistics(('a', 'b', 'c', 'd'))
    target = DetDataSample()
    target.gt_instances = InstanceData(
        bboxes=torch.tensor([[2., 2., 20., 20.], [30., 30., 50., 50.]]),
        labels=torch.tensor([0, 1]), scores=torch.tensor([0.9, 0.6]),
        weights=torch.tensor([1.0, 0.6]))
    target.ignored_instances = InstanceData(
        bboxes=torch.tensor([[40., 2., 60., 20.]]), labels=torch.tensor([2]),
        scores=torch.tensor([0.2]))
    picture = stats.draw([np.zeros((64, 64, 3), np.uint8)], [target])[0]
    k = 4  # 64 px are drawn 4x larger
    assert picture.shape == (64 * k, 64 * k, 3)
    assert picture[20 * k, 10 * k].tolist() == [0, 200, 0]  # hard: green
    assert picture[50 * k, 40 * k].tolist() == [230, 200, 0]  # weighted
    assert picture[20 * k, 50 * k].tolist() == [220, 0, 0]  # ignored: red
    assert picture[40 * k, 10 * k].tolist() == [0, 0, 0]


def test_threshold_hook_logs_each_class_value_under_its_name():
    """The values logged are the labeller's, class by class (a swap of
    high / low or of two classes changes them), every ``interval``."""
    from types import SimpleNamespace

    from mmengine.logging import MessageHub

    from mmkd.engine.hooks import PseudoThresholdHook
    lab = _labeller(num_classes=3)
    lab.tau_high.copy_(torch.tensor([0.8, 0.7, 0.9]))
    lab.tau_low.copy_(torch.tensor([0.5, 0.4, 0.6]))
    hub = MessageHub.get_instance('threshold_hook_test')
    classes = ('car', 'road', 'sky')
    runner = SimpleNamespace(
        model=SimpleNamespace(pseudo_labeller=lab), iter=0, message_hub=hub,
        train_dataloader=SimpleNamespace(dataset=SimpleNamespace(
            metainfo=dict(classes=classes))))
    hook = PseudoThresholdHook(interval=2)
    hook.before_train(runner)
    hook.after_train_iter(runner, 0)  # iteration 1: not logged
    assert 'train/thr/car_high' not in hub.log_scalars
    runner.iter = 1
    hook.after_train_iter(runner, 1)
    logged = {k: hub.get_scalar(k).current() for k in hub.log_scalars
              if k.startswith('train/thr/')}
    assert logged == pytest.approx({
        'train/thr/car_high': 0.8, 'train/thr/car_low': 0.5,
        'train/thr/road_high': 0.7, 'train/thr/road_low': 0.4,
        'train/thr/sky_high': 0.9, 'train/thr/sky_low': 0.6})
    assert hook.history[0][0] == 2


def test_ignore_region_boundary_and_foreground_weight_values(monkeypatch):
    """A negative RoI is in an ignore region at IoU ≥ ``ignore_iou_thr``
    (0.5 exactly: in; 0.49: out), and each positive RoI's classification
    weight is its pseudo box's weight (0.3), negatives' 0."""
    import mmkd.detection.soft_teacher as st
    model = _det_model()
    model.ignore_iou_thr = 0.5
    size = 64
    x = model.student.extract_feat(torch.rand(1, 3, size, size))
    box = torch.tensor([[4., 4., 28., 28.]])
    inst = InstanceData(bboxes=box, labels=torch.tensor([1]),
                        scores=torch.tensor([0.7]),
                        weights=torch.tensor([0.3]))
    # against the ignore box [40, 40, 60, 60] (area 400): IoU 0.5, 0.49
    proposals = [InstanceData(bboxes=torch.tensor(
        [[4., 4., 28., 28.], [40., 40., 60., 50.], [40., 40., 60., 49.8]]))]
    sampling = model._sample(model.student, x, proposals, [inst])
    from mmdet.structures import DetDataSample
    s = DetDataSample(metainfo=dict(img_shape=(size, size)))
    s.ignored_instances = InstanceData(
        bboxes=torch.tensor([[40., 40., 60., 60.]]), labels=torch.tensor([0]))
    flags = model.in_ignore_region(sampling, [s])
    neg = sampling[0].neg_priors
    n_pos = len(sampling[0].pos_priors)
    by_box = {tuple(b.tolist()): f for b, f in zip(neg,
                                                    flags[n_pos:].tolist())}
    assert by_box[(40., 40., 60., 50.)] is True
    assert by_box[(40., 40., 60., 49.79999923706055)] is False
    assert not flags[:n_pos].any()

    seen = {}

    def capture(loss_cls, cls_score, labels, bg_prob, num_classes,
                fg_weight=None):
        seen.update(labels=labels, fg_weight=fg_weight)
        return cls_score.sum() * 0

    monkeypatch.setattr(st, 'soft_teacher_cls_loss', capture)
    model.teacher_background_prob = lambda teacher, boxes, *a: torch.ones(
        sum(len(b) for b in boxes))
    sample = DetDataSample(metainfo=dict(
        img_shape=(size, size), homography_matrix=torch.eye(3),
        teacher_homography_matrix=torch.eye(3),
        teacher_img_shape=(size, size)))
    model.rcnn_cls_loss(model.student, model.teacher, x, proposals, [inst],
                        [sample], x)
    fg = seen['labels'] < model.student.roi_head.bbox_head.num_classes
    assert fg.any()
    assert seen['fg_weight'][fg].tolist() == pytest.approx(
        [0.3] * int(fg.sum()))
    assert (seen['fg_weight'][~fg] == 0).all()


def test_rpn_learns_from_the_hard_tier_only(monkeypatch):
    """Under dual thresholds the RPN's targets are the pseudo boxes of
    weight 1 above ``rpn_pseudo_thr``: a middle-tier box (weight = its score
    0.8) is not one, however high its score."""
    from mmdet.structures import DetDataSample
    model = _det_model()
    model.rpn_pseudo_thr = 0.5
    seen = []

    def capture(x, samples, proposal_cfg=None):
        seen.extend(s.gt_instances.bboxes.tolist() for s in samples)
        return {}, []

    monkeypatch.setattr(model.student.rpn_head, 'loss_and_predict', capture)
    s = DetDataSample(metainfo=dict(img_shape=(64, 64)))
    s.gt_instances = InstanceData(
        bboxes=torch.tensor([[0., 0., 10., 10.], [20., 20., 40., 40.],
                             [5., 5., 50., 50.]]),
        labels=torch.tensor([1, 2, 3]), scores=torch.tensor([0.95, 0.8,
                                                             0.4]),
        weights=torch.tensor([1.0, 0.8, 1.0]))
    model.rpn_loss(model.student, None, [s])
    assert seen == [[[0., 0., 10., 10.]]]
