"""Dual Mean-Teacher for segmentation: the agreement filter on a batch,
the consensus supervising both students, each teacher following its own
student, the ensemble prediction, and checkpoints of different models."""
import os.path as osp

import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from conftest import load_config, run_tool

CONFIG = ('configs/dual_mean_teacher/demo/dual_mean_teacher_deeplabv3_mbv2_'
          'demo_cityscapes_1-8.py')


def _model(**overrides):
    from mmkd.registry import MODELS
    init_default_scope('mmseg')
    cfg = load_config(CONFIG)
    cfg.model.student_a.init_cfg = None
    cfg.model.student_b.init_cfg = None
    for key, value in overrides.items():  # replace, not merge
        cfg.model[key] = value
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def _samples(n, size=4):
    return [SegDataSample(metainfo=dict(img_shape=(size, size),
                                        ori_shape=(size, size),
                                        pad_shape=(size, size)))
            for _ in range(n)]


def _confident(labels, conf=0.9, classes=19):
    """(B, C, H, W) probabilities: ``conf`` on ``labels``, rest spread."""
    probs = torch.full((*labels.shape[:1], classes, *labels.shape[1:]),
                       (1 - conf) / (classes - 1))
    return probs.scatter(1, labels[:, None], conf)


def test_filter_rejects_disagreeing_crops_and_keeps_the_consensus(
        monkeypatch):
    model = _model()
    a = torch.zeros(2, 4, 4, dtype=torch.long)
    a[:, :2] = 1
    b = a.clone()
    b[0, 3, 3] = 2  # crop 0: one pixel differs -> agreement high
    b[1] = 3  # crop 1: nothing in common -> rejected
    probs = dict(teacher_a=_confident(a), teacher_b=_confident(b))
    monkeypatch.setattr(model, 'teacher_probs',
                        lambda inputs, name=None: probs[name])
    targets, info = model.pseudo_label(torch.zeros(2, 3, 4, 4), _samples(2))
    assert info['rejected'] == 0.5
    kept = targets[0].gt_sem_seg.data[0]
    expect = a[0].clone()
    expect[3, 3] = 255
    assert torch.equal(kept, expect)
    assert (targets[0].pseudo_weight.data[0] == (expect != 255)).all()
    assert (targets[1].gt_sem_seg.data[0] == 255).all()
    assert (targets[1].pseudo_weight.data[0] == 0).all()


def test_agreement_is_measured_on_the_image_not_its_padding(monkeypatch):
    """A 4 x 1 image padded to 4 x 4: the teachers agree on the padding
    (class 1) and disagree on every image pixel (2 vs 3). Counted over the
    whole crop the agreement would be 1/3 (class 1: IoU 1; 2, 3: 0) and
    pass τ 0.3; over the image it is 0: rejected."""
    model = _model(agreement_thr=0.3)
    a = torch.ones(1, 4, 4, dtype=torch.long)
    b = a.clone()
    a[0, :, 0], b[0, :, 0] = 2, 3
    probs = dict(teacher_a=_confident(a), teacher_b=_confident(b))
    monkeypatch.setattr(model, 'teacher_probs',
                        lambda inputs, name=None: probs[name])
    sample = SegDataSample(metainfo=dict(img_shape=(4, 1), ori_shape=(4, 1),
                                         pad_shape=(4, 4)))
    targets, info = model.pseudo_label(torch.zeros(1, 3, 4, 4), [sample])
    assert info['rejected'] == 1.0
    assert (targets[0].gt_sem_seg.data == 255).all()
    # the same maps on an unpadded 4 x 4 image: agreement 1/3, kept
    targets, info = model.pseudo_label(torch.zeros(1, 3, 4, 4), _samples(1))
    assert info['rejected'] == 0.0
    assert (targets[0].gt_sem_seg.data[0][:, 1:] == 1).all()


def _class_one(conf, classes=19):
    """(1, C, H, W) probabilities: class 1 at ``conf`` (H, W) per pixel,
    the rest spread evenly."""
    probs = ((1 - conf) / (classes - 1)).expand(1, classes, *conf.shape)
    return probs.clone().index_put_((torch.tensor(0), torch.tensor(1)),
                                    conf)


def test_dynamic_tiers_apply_on_top_of_the_consensus(monkeypatch):
    """With ``DynamicDualThreshold`` as pseudo-labeller a consensus pixel is
    kept at weight 1 above τ_high, at its mean score between τ_low and
    τ_high, and ignored below τ_low; a pixel without consensus stays
    ignored, whatever the labeller would say of its mean score."""
    model = _model(pseudo_labeller=dict(
        type='mmkd.DynamicDualThreshold', num_classes=19, default_high=0.8,
        default_low=0.6))
    conf_a = torch.full((4, 4), 0.9)
    conf_a[1] = 0.7  # row 1: both teachers at 0.7 -> soft tier
    conf_a[2] = 0.55  # row 2: consensus (≥ δ) but below τ_low
    conf_b = conf_a.clone()
    conf_b[3, 3] = 0.4  # b unsure there: no consensus, mean 0.65
    probs = dict(teacher_a=_class_one(conf_a), teacher_b=_class_one(conf_b))
    monkeypatch.setattr(model, 'teacher_probs',
                        lambda inputs, name=None: probs[name])
    targets, info = model.pseudo_label(torch.zeros(1, 3, 4, 4), _samples(1))
    assert info['rejected'] == 0
    kept = targets[0].gt_sem_seg.data[0]
    weight = targets[0].pseudo_weight.data[0]
    assert kept[0].tolist() == [1] * 4 and weight[0].tolist() == [1.0] * 4
    assert kept[1].tolist() == [1] * 4
    assert weight[1].tolist() == pytest.approx([0.7] * 4)
    assert kept[2].tolist() == [255] * 4 and weight[2].tolist() == [0.0] * 4
    assert kept[3].tolist() == [1, 1, 1, 255]
    assert weight[3].tolist() == [1.0, 1.0, 1.0, 0.0]


def test_labelled_scores_come_from_the_teachers_mean(monkeypatch):
    """``threshold_scores='labelled'``: the labeller learns the scores of
    the map its tiers apply to, the mean of the two teachers."""
    model = _model()
    a = torch.zeros(1, 19, 2, 2)
    b = torch.zeros(1, 19, 2, 2)
    a[0, 1, 0, 0], b[0, 1, 0, 0] = 0.9, 0.5  # mean 0.7, right
    a[0, 1, 0, 1], b[0, 3, 0, 1] = 0.9, 0.95  # mean picks 3: wrong
    a[0, 2, 1, 0], b[0, 2, 1, 0] = 0.6, 0.8  # mean 0.7, right
    a[0, 2, 1, 1], b[0, 2, 1, 1] = 0.3, 0.3  # mean 0.3, right
    probs = dict(teacher_a=a, teacher_b=b)
    monkeypatch.setattr(model, 'teacher_probs',
                        lambda inputs, name=None: probs[name])
    sample = _samples(1, 2)[0]
    sample.gt_sem_seg = PixelData(data=torch.tensor([[[1, 1], [2, 2]]]))
    scores, classes = model.labelled_teacher_scores(
        torch.zeros(1, 3, 2, 2), [sample])
    assert scores.tolist() == pytest.approx([0.7, 0.7, 0.3])
    assert classes.tolist() == [1, 2, 2]


def test_both_students_learn_from_the_same_consensus():
    model = _model(cutmix_prob=0.0)
    model.train()
    inputs = torch.randn(2, 3, 32, 32)
    targets, info = model.pseudo_label(inputs, _samples(2, 32))
    for t in targets:  # make some pixels count whatever the random teachers
        t.gt_sem_seg.data[0][:8] = 1
        t.pseudo_weight.data[0][:8] = 1.0
    losses = model.unsup_loss(inputs, targets, info)
    assert set(losses) >= {'a_loss_seg', 'b_loss_seg', 'rejected'}
    losses['a_loss_seg'].backward()
    grads = [p.grad is not None and p.grad.abs().sum() > 0
             for p in model.student_b.parameters()]
    assert not any(grads)  # a's loss reaches only student a
    assert any(p.grad is not None for p in model.student_a.parameters())


def test_each_teacher_follows_only_its_own_student():
    from mmkd.teacher_student import ema_update
    model = _model()
    before_a = [p.clone() for p in model.teacher_a.parameters()]
    with torch.no_grad():
        for p in model.student_b.parameters():
            p.add_(1.0)
    for student, teacher in model.ema_pairs():
        ema_update(getattr(model, teacher), getattr(model, student), 0.5)
    assert all(torch.equal(p, q) for p, q in
               zip(before_a, model.teacher_a.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(
        model.teacher_b.parameters(), model.student_a.parameters()))
    assert sorted(model.ema_pairs()) == [('student_a', 'teacher_a'),
                                         ('student_b', 'teacher_b')]


def test_ensemble_predicts_the_mean_of_the_teachers(monkeypatch):
    model = _model()
    model.eval()
    la = torch.zeros(1, 19, 4, 4)
    lb = torch.zeros(1, 19, 4, 4)
    la[0, 2] = 3.0  # a: class 2 (p = e^3 / (e^3 + 18))
    lb[0, 5] = 2.0  # b: class 5, less sure
    lb[0, 2] = 1.5
    monkeypatch.setattr(model.teacher_a, 'inference', lambda x, m: la)
    monkeypatch.setattr(model.teacher_b, 'inference', lambda x, m: lb)
    out = model.predict_ensemble('ensemble', torch.zeros(1, 3, 4, 4),
                                 _samples(1))[0]
    mean = (la.softmax(1) + lb.softmax(1)) / 2
    assert torch.allclose(out.seg_logits.data, mean[0])
    assert (out.pred_sem_seg.data == mean[0].argmax(0)).all()


def test_initial_checkpoints_of_different_models_name_both(tmp_path):
    from mmkd.registry import MODELS
    init_default_scope('mmseg')
    cfg = load_config(CONFIG)
    seg = cfg.model.student_a
    seg.init_cfg = None
    a = MODELS.build(seg)
    other = dict(seg, decode_head=dict(seg.decode_head, channels=64))
    b = MODELS.build(other)
    pa, pb = str(tmp_path / 'a.pth'), str(tmp_path / 'b.pth')
    torch.save(dict(state_dict=a.state_dict()), pa)
    torch.save(dict(state_dict=b.state_dict()), pb)
    cfg.model.student_a.init_cfg = dict(type='Pretrained', checkpoint=pa)
    cfg.model.student_b.init_cfg = dict(type='Pretrained', checkpoint=pb)
    with pytest.raises(ValueError, match=rf'different architectures: {pa} '
                       rf'vs {pb}'):
        MODELS.build(cfg.model)


@pytest.mark.slow
def test_dual_mean_teacher_trains_evaluates_and_resumes(tmp_path, demo_root):
    from test_training import train_losses
    root = osp.join(demo_root, 'cityscapes_demo') + '/'

    def config(iters, val):
        cfg = load_config(CONFIG)
        cfg.model.student_a.init_cfg = None
        cfg.model.student_b.init_cfg = None
        cfg.model.agreement_thr = 0.0  # random teachers: keep every crop
        cfg.model.delta = 0.0
        for part in ('labeled', 'unlabeled'):
            cfg.train_dataloader.dataset[part].data_root = root
        cfg.val_dataloader.dataset.data_root = root
        cfg.test_dataloader.dataset.data_root = root
        cfg.train_cfg.max_iters = iters
        cfg.train_cfg.val_interval = iters if val else 10**6
        cfg.default_hooks.logger.interval = 1
        cfg.default_hooks.checkpoint.update(interval=2, max_keep_ckpts=-1)
        if not val:
            cfg.default_hooks.checkpoint.save_best = None
            for key in ('val_cfg', 'val_dataloader', 'val_evaluator'):
                cfg[key] = None
        path = str(tmp_path / f'dmt_{iters}_{val}.py')
        cfg.dump(path)
        return path

    r = run_tool('tools/train.py', config(2, True), '--work-dir',
                 str(tmp_path / 'val'))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    for key in ('unsup_a_loss_seg', 'unsup_b_loss_seg', 'unsup_rejected',
                'ensemble/mIoU', 'teacher_b/mIoU', 'student_a/mIoU'):
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

    # tools/test.py predicts with the ensemble (predict_on), or a member
    val_cfg = config(2, True)
    ckpt = str(tmp_path / 'val' / 'iter_2.pth')
    for extra in ([], ['--model', 'teacher_b']):
        r = run_tool('tools/test.py', val_cfg, ckpt, '--work-dir',
                     str(tmp_path / 'test'), *extra)
        assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
        assert 'mIoU' in r.stdout + r.stderr
    # export one teacher as a plain mmseg checkpoint
    out = str(tmp_path / 'teacher_a.pth')
    r = run_tool('tools/export_student.py', val_cfg, ckpt, out, '--model',
                 'teacher_a')
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    state = torch.load(out, weights_only=False)['state_dict']
    full = torch.load(ckpt, weights_only=False)['state_dict']
    key = next(k for k in state if k.endswith('conv_seg.weight'))
    assert torch.equal(state[key], full['teacher_a.' + key])


def test_feature_perturbation_reaches_both_students(monkeypatch):
    model = _model(feature_dropout=0.5, cutmix_prob=0.0)
    model.train()
    a = torch.zeros(2, 4, 4, dtype=torch.long)
    probs = dict(teacher_a=_confident(a), teacher_b=_confident(a))
    monkeypatch.setattr(model, 'teacher_probs',
                        lambda inputs, name=None: probs[name])
    weak = torch.randn(2, 3, 4, 4)
    targets, info = model.pseudo_label(weak, _samples(2))
    assert info['rejected'] == 0 and info['weak_inputs'] is weak
    losses = model.unsup_loss(torch.randn(2, 3, 4, 4), targets, info)
    for s in 'ab':
        assert losses[f'{s}_loss_seg_fp'].item() > 0
    # each student's own perturbed forward
    assert losses['a_loss_seg_fp'].item() != losses['b_loss_seg_fp'].item()
