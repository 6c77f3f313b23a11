"""Semi-supervised segmentation on the core: per-pixel pseudo-labels as
mmseg data samples, the loss on a hand-computed case, CutMix moving images
and labels together, hidden ground truth only in the statistics, and the
demo config through tools/train.py."""
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from conftest import (
    assert_plain_checkpoint_fills_members,
    load_config,
    run_tool,
)
from mmkd.segmentation import weighted_pixel_ce

CONFIG = ('configs/mean_teacher/demo/mean_teacher_deeplabv3_mbv2_demo_'
          'cityscapes_1-8.py')


def test_weighted_pixel_ce_on_a_hand_computed_case():
    # 2 classes, 3 pixels: label 0 (w 1), label 1 (w 0.5), ignored
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [5.0, -5.0]]).t()
    logits = logits.reshape(1, 2, 1, 3)
    labels = torch.tensor([[[0, 1, 255]]])
    weights = torch.tensor([[[1.0, 0.5, 1.0]]])
    ce0 = math.log(1 + math.exp(-2))
    ce1 = math.log(1 + math.exp(-1))
    # Σ w·CE over valid pixels / number of valid pixels
    assert weighted_pixel_ce(logits, labels, weights).item() == \
        pytest.approx((ce0 + 0.5 * ce1) / 2, rel=1e-5)
    all_ignored = torch.full_like(labels, 255)
    assert weighted_pixel_ce(logits, all_ignored, weights).item() == 0


def _model(**overrides):
    from mmkd.registry import MODELS
    init_default_scope('mmseg')
    cfg = load_config(CONFIG)
    cfg.model.student.init_cfg = None
    cfg.model.update(overrides)
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def _samples(n, size=32, hidden=None):
    out = []
    for i in range(n):
        s = SegDataSample(metainfo=dict(img_shape=(size, size),
                                        ori_shape=(size, size),
                                        pad_shape=(size, size)))
        if hidden is not None:
            s.gt_sem_seg = PixelData(data=hidden[i][None])
        out.append(s)
    return out


def test_pseudo_labels_are_seg_data_samples_with_ignore_and_scores():
    model = _model(pseudo_labeller=dict(type='mmkd.FixedThreshold',
                                        score_thr=0.06))
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    targets, _ = model.pseudo_label(x, _samples(2))
    probs = model.teacher.encode_decode(
        x, [s.metainfo for s in _samples(2)]).softmax(1)
    for target, prob in zip(targets, probs):
        label = target.gt_sem_seg.data[0]
        score, arg = prob.max(0)
        assert torch.equal(label[score >= 0.06], arg[score >= 0.06])
        assert (label[score < 0.06] == 255).all()
        assert torch.allclose(target.pseudo_score.data[0], score)
        weight = target.pseudo_weight.data[0]
        assert (weight[score >= 0.06] == 1).all()
        assert (weight[score < 0.06] == 0).all()


def test_an_image_smaller_than_the_crop_gets_no_pseudo_labels_in_padding():
    model = _model(pseudo_labeller=dict(type='mmkd.FixedThreshold',
                                        score_thr=0.0))
    model.eval()
    hidden = torch.zeros(2, 32, 32, dtype=torch.long)
    hidden[1, 20:] = 255  # the padded ground truth of the smaller image
    samples = _samples(2, hidden=hidden)
    samples[1].set_metainfo(dict(img_shape=(20, 24)))  # padded to 32x32
    targets, _ = model.pseudo_label(torch.randn(2, 3, 32, 32), samples)
    small = targets[1].gt_sem_seg.data[0]
    assert (small[:20, :24] != 255).all()
    assert (small[20:] == 255).all() and (small[:, 24:] == 255).all()
    assert (targets[1].pseudo_weight.data[0][20:] == 0).all()
    assert (targets[0].gt_sem_seg.data[0] != 255).all()
    from mmkd.segmentation import MapPseudoLabelStatistics
    statistics = MapPseudoLabelStatistics(tuple(f'c{i}' for i in range(19)))
    stats = statistics.summarise(statistics.records_of(targets))
    assert stats['coverage'] == pytest.approx(
        (32 * 32 + 20 * 24) / (2 * 32 * 32))


def test_cutmix_moves_images_labels_and_weights_together():
    model = _model(cutmix_prob=1.0)
    n, size = 4, 32
    ids = torch.arange(n, dtype=torch.float32)
    inputs = ids.view(n, 1, 1, 1).expand(n, 3, size, size).clone()
    targets = []
    for i in range(n):
        t = SegDataSample()
        t.gt_sem_seg = PixelData(data=torch.full((1, size, size), i))
        t.pseudo_weight = PixelData(data=torch.full((1, size, size),
                                                    i / 10))
        targets.append(t)
    torch.manual_seed(3)
    mixed, out = model.to_student_view(targets, inputs, _samples(n, size))
    for i, sample in enumerate(out):
        label = sample.gt_sem_seg.data[0]
        assert torch.equal(label.float(), mixed[i, 0])
        assert torch.allclose(sample.pseudo_weight.data[0], label / 10)
        assert (label != i).any()  # something was pasted


def test_pseudo_labels_follow_recorded_homographies_into_the_student_view():
    """Views with their own geometry (``homography_matrix``): labels and
    weights are resampled, pixels from outside the teacher view ignored."""
    model = _model(cutmix_prob=0.0)
    size = 8
    label = torch.zeros(size, size, dtype=torch.long)
    label[:, :2] = 3
    t = SegDataSample(metainfo=dict(homography_matrix=np.eye(3)))
    t.gt_sem_seg = PixelData(data=label[None])
    t.pseudo_weight = PixelData(data=(label.float() / 3)[None])
    s = _samples(1, size)[0]
    # the student's view: the original flipped, then shifted 2 px left
    # (x_s = 6 - x): student column i shows original column 5 - i
    s.set_metainfo(dict(homography_matrix=np.array(
        [[-1., 0, size - 2], [0, 1, 0], [0, 0, 1]])))
    _, out = model.to_student_view([t], torch.zeros(1, 3, size, size), [s])
    moved = out[0].gt_sem_seg.data[0]
    assert (moved[:, 6:] == 255).all()  # from outside the teacher's view
    assert (moved[:, 4:6] == 3).all() and (moved[:, :4] == 0).all()
    weight = out[0].pseudo_weight.data[0]
    assert (weight[:, 4:6] == 1).all() and (weight[:, :4] == 0).all()
    assert (weight[:, 6:] == 0).all()


def test_the_hidden_ground_truth_reaches_statistics_not_the_loss():
    model = _model(cutmix_prob=0.0, pseudo_labeller=dict(
        type='mmkd.FixedThreshold', score_thr=0.0))
    model.train()
    from mmkd.segmentation import MapPseudoLabelStatistics
    statistics = MapPseudoLabelStatistics(tuple(f'c{i}' for i in range(19)))
    model.keep_pseudo_labels = True
    records = []
    x = torch.randn(2, 3, 32, 32)
    sup = _samples(2, hidden=torch.randint(0, 19, (2, 32, 32)))
    losses = []
    for hidden in (torch.zeros(2, 32, 32, dtype=torch.long),
                   torch.ones(2, 32, 32, dtype=torch.long)):
        torch.manual_seed(1)
        losses.append(model.loss(
            dict(sup=x, unsup_teacher=x, unsup_student=x),
            dict(sup=sup, unsup_teacher=_samples(2, hidden=hidden),
                 unsup_student=_samples(2)))['unsup_loss_seg'].item())
        records += statistics.records_of(model.last_pseudo_labels[1])
    assert losses[0] == losses[1]
    stats = [statistics.summarise([r]) for r in records]
    # every pixel is labelled (threshold 0); accuracy = share equal to the
    # hidden label, class by class
    assert stats[0]['coverage'] == 1.0
    label = model.pseudo_label(x, _samples(2))[0][0].gt_sem_seg.data[0]
    assert stats[0]['accuracy'] == pytest.approx(
        (label == 0).float().mean().item())
    assert stats[2]['accuracy'] == pytest.approx(
        (label == 1).float().mean().item())


@pytest.mark.slow
def test_mean_teacher_demo_config_trains_and_evaluates_members(tmp_path,
                                                               demo_root):
    from conftest import point_semi_seg_config_at
    cfg = point_semi_seg_config_at(load_config(CONFIG), demo_root)
    cfg.model.student.init_cfg = None
    cfg.model.pseudo_labeller.score_thr = 0.05
    cfg.train_cfg.max_iters = 3
    cfg.train_cfg.val_interval = 3
    cfg.default_hooks.logger.interval = 1
    cfg.custom_hooks[1].interval = 1
    path = str(tmp_path / 'mt_seg.py')
    cfg.dump(path)
    r = run_tool('tools/train.py', path, '--work-dir', str(tmp_path / 'wd'))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    last = out.split('Iter(train) [3/3]')[1].split('\n')[0]
    assert 'unsup_loss_seg' in last and 'pseudo/accuracy' in last
    assert float(last.split('pseudo/coverage: ')[1].split()[0]) > 0
    assert 'teacher/mIoU' in out and 'student/mIoU' in out


def test_load_from_a_plain_mmseg_checkpoint_fills_student_and_teacher(
        tmp_path):
    from mmkd.registry import MODELS
    model = _model()
    torch.manual_seed(7)
    plain = MODELS.build(load_config(CONFIG).model.student)
    assert_plain_checkpoint_fills_members(model, plain, tmp_path)


@pytest.mark.slow
def test_unlabelled_images_from_a_folder_without_split_list(tmp_path,
                                                           demo_root):
    root = osp.join(demo_root, 'cityscapes_demo') + '/'
    cfg = load_config(CONFIG)
    cfg.model.student.init_cfg = None
    cfg.train_dataloader.dataset.labeled.data_root = root
    pipeline = [t for t in cfg.train_dataloader.dataset.unlabeled.pipeline
                if 'LoadSegAnnotations' not in t['type']]
    cfg.train_dataloader.dataset.unlabeled = dict(
        type='mmkd.UnlabeledImageFolder',
        data_root=root + 'leftImg8bit/train/',
        metainfo=dict(classes=cfg.train_dataloader.dataset.labeled.get(
            'metainfo', {}).get('classes', ())),
        pipeline=pipeline)
    cfg.default_hooks.logger.interval = 1
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.val_interval = 10**6
    cfg.default_hooks.checkpoint.save_best = None
    for key in ('val_cfg', 'val_dataloader', 'val_evaluator'):
        cfg[key] = None
    path = str(tmp_path / 'folder.py')
    cfg.dump(path)
    r = run_tool('tools/train.py', path, '--work-dir', str(tmp_path / 'wd'))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    assert 'Iter(train) [2/2]' in out and 'unsup_loss_seg' in out


def test_teacher_stays_frozen_and_in_eval_mode_while_training():
    from mmkd.registry import MODELS
    init_default_scope('mmseg')
    cfg = load_config('configs/dynamic_threshold/demo/'
                      'mean_teacher_deeplabv3_mbv2_demo_cityscapes_1-8_'
                      'dynamic.py')
    cfg.model.student.init_cfg = None
    model = MODELS.build(cfg.model)
    model.train()
    assert model.student.training and not model.teacher.training
    assert not any(p.requires_grad for p in model.teacher.parameters())
    x = torch.randn(2, 3, 32, 32)
    targets, _ = model.pseudo_label(x, _samples(2))
    weights = torch.stack([t.pseudo_weight.data[0] for t in targets])
    labels = torch.stack([t.gt_sem_seg.data[0] for t in targets])
    loss = model.unsup_loss(x, targets, {})['loss_seg']
    if (weights > 0).any():
        loss.backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    # ignored pixels carry weight 0 and the ignore label together
    assert ((labels == 255) == (weights == 0)).all()


def test_feature_perturbation_branch_on_the_weak_view():
    from torch.nn import functional as F
    model = _model(cutmix_prob=0.0, feature_dropout=0.5,
                   feature_dropout_weight=0.25)
    model.train()  # the student in train mode, the teacher in eval
    weak, strong = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)
    labels = torch.randint(0, 19, (2, 32, 32))
    labels[:, :8] = 255
    weights = torch.rand(2, 32, 32)
    targets = [model.pseudo_target(s, label, weight, weight)
               for s, label, weight in zip(_samples(2), labels, weights)]
    info = model.weak_view_info(weak, targets)
    torch.manual_seed(3)
    losses = model.unsup_loss(strong, targets, info)
    student = model.student

    def ce(x, dropout):
        feats = student.extract_feat(x)
        if dropout:
            feats = [F.dropout2d(f, 0.5, training=True) for f in feats]
        logits = F.interpolate(student.decode_head(feats), x.shape[-2:],
                               mode='bilinear')
        return weighted_pixel_ce(logits, labels, weights)

    # the same random draws in the same order: the strong view's loss
    # scaled by 1 - β, then β × the loss of the weak view through
    # dropped-out features against the teacher-view pseudo-labels
    torch.manual_seed(3)
    strong_ce, fp_ce = ce(strong, False).item(), ce(weak, True).item()
    assert losses['loss_seg'].item() == pytest.approx(0.75 * strong_ce,
                                                      rel=1e-5)
    assert losses['loss_seg_fp'].item() == pytest.approx(0.25 * fp_ce,
                                                         rel=1e-5)
    # the dropout is real: without it (same draws of the decode head's own
    # dropout), another loss
    torch.manual_seed(3)
    ce(strong, False)
    assert fp_ce != ce(weak, False).item()
    # gradients reach the student through the perturbed branch
    student.zero_grad()
    losses['loss_seg_fp'].backward()
    assert student.decode_head.conv_seg.weight.grad.abs().sum() > 0
    # the teacher's step hands the branch its weak view and pseudo-labels
    model.eval()
    targets, info = model.pseudo_label(weak, _samples(2))
    assert info['weak_inputs'] is weak and info['weak_targets'] is targets
    # off by default: one term, no weak view kept
    plain = _model(cutmix_prob=0.0)
    targets, info = plain.pseudo_label(weak, _samples(2))
    assert info == {}
    assert 'loss_seg_fp' not in plain.unsup_loss(strong, targets, info)
    with pytest.raises(ValueError, match='feature_dropout'):
        _model(feature_dropout=1.0)


def test_pseudo_label_records_count_on_the_device_in_one_transfer():
    """Per-class counts as ``bincount`` gives them, for the batch in one
    transfer and without waiting for the GPU (bincount and boolean
    indexing did, three times per image)."""
    from mmengine.structures import PixelData
    from test_dual_consensus import _OnGPU

    from mmkd.segmentation import MapPseudoLabelStatistics
    model = MapPseudoLabelStatistics(('a', 'b', 'c'))
    label = torch.tensor([[0, 1, 1, 255], [2, 2, 2, 1]])
    hidden = torch.tensor([[0, 1, 2, 0], [255, 2, 1, 1]])
    targets = []
    for on_gpu in (False, True):
        wrap = (lambda t: t.as_subclass(_OnGPU)) if on_gpu else (lambda t: t)
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=wrap(label[None]))
        s.hidden_sem_seg = PixelData(data=wrap(hidden[None]))
        targets.append(s)
    _OnGPU.transfers = 0
    on_device = model.records_of(targets[1:])
    assert _OnGPU.transfers == 1
    record = model.records_of(targets[:1])[0]
    assert record['pixels'] == 8
    assert record['labelled'].tolist() == [1, 3, 3]
    # known (labelled in both): labels 0, 1, 1, 2, 2, 1; equal: 0, 1, 2, 1
    assert record['checked'].tolist() == [1, 3, 2]
    assert record['correct'].tolist() == [1, 2, 1]
    for key in ('labelled', 'checked', 'correct'):
        assert torch.equal(on_device[0][key], record[key])


def test_padding_scores_stay_out_of_the_threshold_buffer():
    """With ``threshold_scores='unlabelled'`` the dynamic labeller learns
    from the image pixels only: a 20 x 24 image padded to 32 x 32 adds
    20 · 24 scores, the full-size image 32 · 32."""
    from mmkd.registry import MODELS
    init_default_scope('mmseg')
    cfg = load_config(CONFIG)
    cfg.model.student.init_cfg = None
    cfg.model.pseudo_labeller = dict(type='mmkd.DynamicDualThreshold',
                                     num_classes=19, buffer_size=4096,
                                     max_observed_per_class=4096)
    cfg.model.threshold_scores = 'unlabelled'
    model = MODELS.build(cfg.model).eval()
    samples = _samples(2)
    samples[1].set_metainfo(dict(img_shape=(20, 24)))
    model.pseudo_label(torch.randn(2, 3, 32, 32), samples)
    assert int(model.pseudo_labeller.num_observed.sum()) == \
        32 * 32 + 20 * 24
