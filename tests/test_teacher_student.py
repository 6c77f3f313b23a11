import math
import os.path as osp

import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from conftest import load_config, point_semi_det_config_at, run_tool
from mmkd.teacher_student import FixedThreshold, sigmoid_rampup


def test_sigmoid_rampup_formula():
    assert sigmoid_rampup(0, 100) == pytest.approx(math.exp(-5))
    assert sigmoid_rampup(50, 100) == pytest.approx(math.exp(-5 * 0.25))
    assert sigmoid_rampup(100, 100) == 1.0
    assert sigmoid_rampup(3, 0) == 1.0


def test_fixed_threshold_on_boxes_moves_with_the_scores():
    preds = InstanceData(bboxes=torch.rand(4, 4),
                         scores=torch.tensor([0.95, 0.5, 0.9, 0.89]),
                         labels=torch.tensor([0, 1, 2, 1]))
    kept, weights = FixedThreshold(score_thr=0.9)(preds)
    assert kept.scores.tolist() == pytest.approx([0.95, 0.9])
    assert weights.tolist() == [1.0, 1.0]
    kept, _ = FixedThreshold(score_thr=[0.99, 0.4, 0.99])(preds)  # per class
    assert kept.labels.tolist() == [1, 1]
    # the boundary is kept (>=), below it is background, not ignored
    kept, _ = FixedThreshold(score_thr=0.95)(preds)
    assert kept.scores.tolist() == pytest.approx([0.95])
    assert len(FixedThreshold(score_thr=0.95).ignored(preds)) == 0


def test_fixed_threshold_on_probability_maps_ignores_low_confidence():
    probs = torch.tensor([[[0.7, 0.2]], [[0.3, 0.8]]])  # (C=2, 1, 2)
    label, weight = FixedThreshold(score_thr=0.75, ignore_index=255)(probs)
    assert label.tolist() == [[255, 1]]
    assert weight.tolist() == [[0.0, 1.0]]


def _build_demo_model():
    from mmkd.registry import MODELS
    init_default_scope('mmkd')
    cfg = load_config(
        'configs/mean_teacher/demo/mean_teacher_faster_rcnn_r18_demo_coco_10p.py')
    cfg.model.student.init_cfg = None
    return MODELS.build(cfg.model)


def test_teacher_is_frozen_and_stays_in_eval_mode():
    model = _build_demo_model()
    model.train()
    assert model.student.training
    assert not model.teacher.training
    assert not any(m.training for m in model.teacher.modules())
    assert not any(p.requires_grad for p in model.teacher.parameters())
    assert all(p.requires_grad for p in model.student.parameters())


@pytest.mark.slow
def test_mean_teacher_demo_config_trains_a_few_iterations(tmp_path,
                                                          demo_root):
    root = osp.join(demo_root, 'coco_demo') + '/'
    cfg = point_semi_det_config_at(load_config(
        'configs/mean_teacher/demo/mean_teacher_faster_rcnn_r18_demo_coco_10p.py'),
        demo_root)
    cfg.model.student.init_cfg = None
    cfg.train_cfg.max_iters = 3
    cfg.train_cfg.val_interval = 3
    cfg.default_hooks.logger.interval = 1
    # the statistics hook works for the mean-teacher detector too (a low
    # threshold: the random teacher's scores are about 0.25)
    cfg.model.pseudo_labeller.score_thr = 0.2
    cfg.custom_hooks.append(dict(
        type='PseudoLabelStatsHook', interval=1,
        gt_ann_file=root + 'annotations/semi_anns/'
        'instances_train2017.1@10-unlabeled.gt.json'))
    cfg.dump(str(tmp_path / 'mt.py'))
    cfg = tmp_path / 'mt.py'
    r = run_tool('tools/train.py', str(cfg), '--work-dir',
                 str(tmp_path / 'wd'))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    assert 'unsup_num_pseudo' in out
    stats = out.split('Iter(train) [3/3]')[1].split('\n')[0]
    assert 'pseudo/precision' in stats and 'pseudo/recall' in stats
    boxes = float(stats.split('pseudo/boxes_per_img: ')[1].split()[0])
    assert boxes > 0
    assert 'nan' not in out.split('Iter(train) [3/3]')[1].split('\n')[0]
    # teacher and student are both evaluated
    assert 'teacher/coco/bbox_mAP' in out and 'student/coco/bbox_mAP' in out


def test_batch_norm_statistics_uses_the_batch_and_keeps_running_stats():
    from mmkd.teacher_student import batch_norm_statistics
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1),
                              torch.nn.BatchNorm2d(4)).eval()
    net[1].running_mean.fill_(5.0)  # statistics of "another distribution"
    x = torch.randn(3, 3, 6, 6) * 2 + 1
    running = {k: v.clone() for k, v in net.state_dict().items()
               if 'running' in k}
    with torch.no_grad():
        eval_out = net(x)
        with batch_norm_statistics(net):
            batch_out = net(x)
    y = net[0](x).detach()
    mean = y.mean(dim=(0, 2, 3), keepdim=True)
    var = y.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    bn = net[1]
    expected = (y - mean) / torch.sqrt(var + bn.eps) * \
        bn.weight.view(1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)
    assert torch.allclose(batch_out, expected, atol=1e-5)
    assert not torch.allclose(eval_out, expected, atol=1e-2)
    for k, v in running.items():  # nothing learnt from the batch
        assert torch.equal(net.state_dict()[k], v), k
    assert not bn.training and bn.momentum == 0.1


def test_batch_norm_statistics_track_updates_running_stats_by_momentum():
    from mmkd.teacher_student import batch_norm_statistics
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm2d(4, momentum=0.25).eval()
    bn.running_mean.fill_(5.0)
    bn.running_var.fill_(3.0)
    x = torch.randn(3, 4, 6, 6) * 2 + 1
    with torch.no_grad(), batch_norm_statistics(bn, track=True):
        bn(x)
    n = x.numel() / 4
    mean = x.mean(dim=(0, 2, 3))
    var = x.var(dim=(0, 2, 3), unbiased=False) * n / (n - 1)  # unbiased
    assert torch.allclose(bn.running_mean, 0.75 * 5.0 + 0.25 * mean)
    assert torch.allclose(bn.running_var, 0.75 * 3.0 + 0.25 * var)
    assert not bn.training and bn.momentum == 0.25


def test_teacher_norm_batch_applies_only_while_pseudo_labelling():
    model = _build_demo_model()
    seen = []

    def pseudo_label(inputs, samples):
        seen.append([(m.training, m.momentum)
                     for m in model.teacher.modules()
                     if isinstance(m, torch.nn.BatchNorm2d)])
        raise StopIteration  # stop the step here

    model.pseudo_label = pseudo_label
    model.sup_loss = lambda inputs, samples: {}
    # momentum 0 while pseudo-labelling: the running statistics stay
    for norm, in_block, momentum in (('running', False, 0.1),
                                     ('batch', True, 0.0),
                                     ('batch_track', True, 0.1)):
        model.teacher_norm = norm
        model.train()
        with pytest.raises(StopIteration):
            model.loss(dict(sup=None, unsup_teacher=None), dict(
                sup=None, unsup_teacher=None))
        assert seen[-1] and all(s == (in_block, momentum)
                                for s in seen[-1]), norm
        assert not model.teacher.training
        assert not any(m.training for m in model.teacher.modules())
    with pytest.raises(ValueError, match="teacher_norm.*'bn'"):
        from mmkd.teacher_student import TeacherStudentModel
        TeacherStudentModel(student=None, teacher_norm='bn')


def test_multi_branch_preprocessor_survives_a_separate_ddp_wrapper():
    """``to()`` returns the module itself (mmdet's returns its inner
    preprocessor, which MMSeparateDistributedDataParallel then stored in
    the model's place) and the branches' missing views are dropped."""
    import torch.nn as nn

    from mmkd.teacher_student import MultiBranchDataPreprocessor
    pre = MultiBranchDataPreprocessor(dict(type='BaseDataPreprocessor'))
    assert pre.to('cpu') is pre and pre.cpu() is pre
    holder = nn.Module()
    holder.add_module('data_preprocessor', pre)
    for name, child in list(holder._modules.items()):  # what the wrapper does
        holder._modules[name] = child.to('cpu')
    assert holder.data_preprocessor is pre
    a, b = torch.ones(2), torch.zeros(2)
    out = pre(dict(inputs=dict(sup=[a, None], unsup=[None, b]),
                   data_samples=dict(sup=['s', None], unsup=[None, 'u'])),
              training=True)
    assert [x.tolist() for x in out['inputs']['sup']] == [[1., 1.]]
    assert [x.tolist() for x in out['inputs']['unsup']] == [[0., 0.]]
    assert out['data_samples'] == dict(sup=['s'], unsup=['u'])
    plain = dict(inputs=[a], data_samples=['s'])
    assert pre(plain, training=False)['inputs'][0] is a
