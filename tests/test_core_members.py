"""The teacher-student core with named members, on a toy model (a few
convolutions, no mmdet): EMA pairs, eval-mode teachers, the predicting
member, checkpoints (resume and plain load_from), member validation, and the
view geometry (boxes, maps, CutMix)."""
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.runner.checkpoint import load_checkpoint, save_checkpoint

from mmkd.engine import MemberValLoop
from mmkd.registry import MODELS
from mmkd.teacher_student import (
    EMATeacherHook,
    TeacherStudentModel,
    cut_mix,
    project_boxes,
    view_to_view,
    warp_maps,
)


@MODELS.register_module(force=True)
class ToyNet(BaseModel):
    """conv-BN-conv; ``loss`` is the MSE to ``data_samples`` (a tensor),
    ``predict`` returns the output."""

    def __init__(self, channels=4, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, 1, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.conv2(F.relu(self.bn(self.conv1(inputs))))
        if mode == 'loss':
            return dict(loss_mse=F.mse_loss(out, data_samples))
        return out


@MODELS.register_module(force=True)
class ToyDualMethod(TeacherStudentModel):
    """Two students, each with its EMA teacher; each student learns from the
    other pair's teacher (only to give the template a concrete method)."""

    def sup_loss(self, inputs, data_samples):
        return {f'loss_{n}': getattr(self, n)(inputs, data_samples, 'loss')
                ['loss_mse'] for n in self.student_names}

    def pseudo_label(self, inputs, data_samples):
        return {t: getattr(self, t)(inputs) for t in self.teacher_names}, {}

    def to_student_view(self, targets, inputs, data_samples):
        return inputs, targets

    def unsup_loss(self, inputs, targets, info):
        return dict(loss_a=F.mse_loss(self.a(inputs), targets['tb']),
                    loss_b=F.mse_loss(self.b(inputs), targets['ta']))


def _dual(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='ToyDualMethod',
        students=dict(a=dict(type='ToyNet'), b=dict(type='ToyNet')),
        teachers=dict(ta=dict(ema_of='a'), tb=dict(ema_of='b')), **kwargs))
    torch.manual_seed(1)
    for p in model.b.parameters():  # b differs from a
        p.data.normal_()
    return model


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def _equal(xs, ys):
    return all(torch.equal(x, y) for x, y in zip(xs, ys))


def _runner(model, it=0):
    return SimpleNamespace(model=model, iter=it)


def test_named_members_are_built_frozen_and_stay_in_eval_mode():
    model = _dual(predict_on='ta')
    assert model.student_names == ('a', 'b')
    assert model.teacher_names == ('ta', 'tb')
    assert model.ema_sources == dict(ta='a', tb='b')
    model.train()
    for name in ('ta', 'tb'):
        teacher = getattr(model, name)
        assert not teacher.training and not teacher.bn.training
        assert not any(p.requires_grad for p in teacher.parameters())
    assert model.a.training and model.b.bn.training
    # checkpoint keys carry the member names
    assert {k.split('.')[0] for k in model.state_dict()} == {
        'a', 'b', 'ta', 'tb'}


def test_member_declarations_are_checked():
    student = dict(type='ToyNet')
    with pytest.raises(ValueError, match="EMA of 'c'"):
        TeacherStudentModel(students=dict(a=student),
                            teachers=dict(ta=dict(ema_of='c')))
    with pytest.raises(ValueError, match='not both'):
        TeacherStudentModel(student=student, students=dict(a=student))
    with pytest.raises(ValueError, match="predict_on='tc'"):
        _dual(predict_on='tc')
    # the single-pair default keeps the names student / teacher
    single = TeacherStudentModel(student=student)
    assert single.member_names == ('student', 'teacher')
    assert single.ema_sources == dict(teacher='student')


def test_ema_hook_updates_each_teacher_from_its_own_student_only():
    model = _dual()
    hook = EMATeacherHook(momentum=0.5)
    hook.before_train(_runner(model))  # iteration 0: teachers = students
    assert _equal(_params(model.ta), _params(model.a))
    assert _equal(_params(model.tb), _params(model.b))
    with torch.no_grad():
        for p in model.a.parameters():
            p.add_(2.0)
        for p in model.b.parameters():
            p.sub_(4.0)
    ta, tb = _params(model.ta), _params(model.tb)
    hook.after_train_iter(_runner(model, 0), 0)
    for t, before, s in zip(model.ta.parameters(), ta, model.a.parameters()):
        assert torch.allclose(t, 0.5 * before + 0.5 * s)
    for t, before, s in zip(model.tb.parameters(), tb, model.b.parameters()):
        assert torch.allclose(t, 0.5 * before + 0.5 * s)


def test_ema_hook_updates_only_the_pairs_the_model_names_this_step(
        monkeypatch):
    model = _dual()
    hook = EMATeacherHook(momentum=0.5)
    monkeypatch.setattr(model, 'ema_pairs', lambda: [('b', 'tb')])
    ta, tb = _params(model.ta), _params(model.tb)
    hook.after_train_iter(_runner(model, 0), 0)
    assert _equal(_params(model.ta), ta)
    assert not _equal(_params(model.tb), tb)


def test_a_batch_track_teacher_with_copied_buffers_is_refused():
    model = _dual(teacher_norm='batch_track')
    with pytest.raises(ValueError, match="buffers='skip'"):
        EMATeacherHook(buffers='copy').before_train(_runner(model))
    EMATeacherHook(buffers='skip').before_train(_runner(model))


def test_teacher_norm_applies_to_every_teacher_while_pseudo_labelling():
    model = _dual(teacher_norm='batch')
    model.train()
    seen = []
    for name in ('ta', 'tb'):
        getattr(model, name).bn.register_forward_pre_hook(
            lambda m, _: seen.append(m.training))
    x = torch.randn(4, 1, 8, 8)
    model.loss(dict(sup=x, unsup_teacher=x, unsup_student=x),
               dict(sup=torch.zeros(4, 1, 8, 8), unsup_teacher=None,
                    unsup_student=None))
    assert seen == [True, True]  # batch statistics in both teachers
    assert not model.ta.bn.training and not model.tb.bn.training


@pytest.mark.parametrize('norm', ['batch_track', 'batch'])
def test_student_unsup_norm_decides_what_the_running_statistics_track(norm):
    """With 'batch' the students' running statistics are those of the
    labelled batch alone, whatever the unlabelled views look like; with
    'batch_track' the unlabelled forward moves them too."""
    model = _dual(student_unsup_norm=norm)
    model.train()
    x = torch.randn(4, 1, 8, 8)
    far = x * 5 + 10  # unlabelled views of another distribution
    seen = []
    model.a.bn.register_forward_pre_hook(lambda m, _: seen.append(m.training))
    model.loss(dict(sup=x, unsup_teacher=far, unsup_student=far),
               dict(sup=torch.zeros(4, 1, 8, 8), unsup_teacher=None,
                    unsup_student=None))
    labelled_only = _dual()
    labelled_only.train()
    labelled_only.sup_loss(x, torch.zeros(4, 1, 8, 8))
    for name in ('a', 'b'):
        bn, ref = getattr(model, name).bn, getattr(labelled_only, name).bn
        same = torch.equal(bn.running_mean, ref.running_mean) and \
            torch.equal(bn.running_var, ref.running_var)
        assert same == (norm == 'batch'), name
        assert bn.momentum == ref.momentum  # restored after the step
    assert seen == [True, True]  # batch statistics in both forwards


def test_student_unsup_norm_is_checked():
    with pytest.raises(ValueError, match="student_unsup_norm.*'eval'"):
        _dual(student_unsup_norm='eval')


def test_predict_on_picks_the_named_member():
    model = _dual(predict_on='tb')
    model.eval()
    x = torch.randn(2, 1, 8, 8)
    assert torch.equal(model(x, mode='predict'), model.tb(x))
    assert not torch.equal(model(x, mode='predict'), model.ta(x))


class _Evaluator:

    def __init__(self):
        self.outputs = []

    def process(self, data_samples, data_batch=None):
        self.outputs.append(data_samples)

    def evaluate(self, size):  # one member's outputs at a time
        out = dict(mean=float(torch.cat(self.outputs).mean()))
        self.outputs.clear()
        return out


class _Loader(list):
    dataset = [0, 1]
    passes = 0

    def __iter__(self):
        self.passes += 1
        return super().__iter__()


def test_member_val_loop_evaluates_every_named_member():
    model = _dual(predict_on='a')
    x = torch.randn(2, 1, 8, 8)
    loop = MemberValLoop.__new__(MemberValLoop)
    loop._runner = SimpleNamespace(model=model,
                                   call_hook=lambda *a, **k: None)
    loop.dataloader = _Loader([dict(inputs=x)])
    loop.evaluator = _Evaluator()
    loop.members, loop.fp16, loop.val_loss = None, False, {}
    metrics = loop.run()
    model.eval()
    assert sorted(metrics) == ['a/mean', 'b/mean', 'ta/mean', 'tb/mean']
    for name in ('a', 'b', 'ta', 'tb'):
        expected = float(getattr(model, name)(x).mean())
        assert metrics[f'{name}/mean'] == pytest.approx(expected, rel=1e-5)
    assert model.predict_on == 'a'  # restored
    # what RNGStateHook replays of a validation skipped by a resume
    assert loop.loader_passes == loop.dataloader.passes == 4


def test_resume_restores_every_member(tmp_path):
    model = _dual()
    with torch.no_grad():
        for p in model.tb.parameters():
            p.mul_(3.0)
        model.ta.bn.running_mean.fill_(0.7)
    path = str(tmp_path / 'ckpt.pth')
    save_checkpoint(dict(state_dict=model.state_dict()), path)
    fresh = _dual()
    load_checkpoint(fresh, path, strict=True)
    for name in ('a', 'b', 'ta', 'tb'):
        for k, v in getattr(model, name).state_dict().items():
            assert torch.equal(getattr(fresh, name).state_dict()[k], v), k


def test_load_from_a_plain_checkpoint_initialises_student_and_teacher(
        tmp_path):
    torch.manual_seed(3)
    plain = ToyNet()
    path = str(tmp_path / 'plain.pth')
    save_checkpoint(dict(state_dict=plain.state_dict()), path)
    torch.manual_seed(4)
    model = TeacherStudentModel(student=dict(type='ToyNet'))
    load_checkpoint(model, path, strict=True)
    for member in (model.student, model.teacher):
        assert _equal(_params(member), _params(plain))
    # a checkpoint of something else altogether is an error, not a warning
    other = str(tmp_path / 'other.pth')
    save_checkpoint(dict(state_dict=dict(head_x=torch.zeros(2))), other)
    with pytest.raises(ValueError, match='no parameter of'):
        load_checkpoint(model, other)


# -- view geometry -----------------------------------------------------------
def test_project_boxes_is_mmdets_bbox_project():
    from mmdet.structures.bbox import bbox_project
    boxes = torch.tensor([[4., 6., 30., 40.], [50., 10., 60., 70.]])
    c, s = np.cos(0.3), np.sin(0.3)
    matrix = np.array([[1.1 * c, -s, 5], [s, 0.9 * c, -3], [0, 0, 1]])
    ours = project_boxes(boxes, matrix, (64, 80))
    ref = bbox_project(boxes, torch.tensor(matrix, dtype=torch.float32),
                       (64, 80))
    assert torch.allclose(ours, ref, atol=1e-4)
    # view_to_view composes H_dst · H_src⁻¹
    h_a, h_b = np.diag([2., 2., 1.]), np.array([[-1, 0, 64], [0, 1, 0],
                                                [0, 0, 1.]])
    assert np.allclose(view_to_view(h_a, h_b), h_b @ np.linalg.inv(h_a))


def test_warp_maps_matches_cv2_nearest_on_a_rotation_and_flips_exactly():
    rng = np.random.default_rng(0)
    maps = torch.from_numpy(rng.integers(0, 5, (2, 40, 48)).astype(np.uint8))
    flip = np.array([[-1, 0, 48], [0, 1, 0], [0, 0, 1.]])
    flipped = warp_maps(maps, flip, (40, 48))
    assert torch.equal(flipped, maps.flip(-1))
    c, s = np.cos(0.4), np.sin(0.4)
    rot = np.array([[c, -s, 10], [s, c, -6], [0, 0, 1.]])
    ours = warp_maps(maps, rot, (44, 50), fill=0)
    # cv2 maps pixel centres: shift by half a pixel each side
    centre = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    pixel = np.linalg.inv(centre) @ rot @ centre
    ref = np.stack([cv2.warpPerspective(m, pixel, (50, 44),
                                        flags=cv2.INTER_NEAREST)
                    for m in maps.numpy()])
    # the two round a source coordinate that falls exactly between pixels
    # differently; everything else is the same pixel
    assert (ours.numpy() == ref).mean() > 0.995


def test_cut_mix_applies_one_draw_to_images_and_maps():
    n, h, w = 4, 16, 20
    ids = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1)
    images = ids.expand(n, 3, h, w).clone()
    labels = ids.view(n, 1, 1).expand(n, h, w).long().clone()
    g = torch.Generator().manual_seed(0)
    mixed, mixed_labels = cut_mix(images, labels, generator=g)
    # the label map was moved with exactly the image's pixels
    assert torch.equal(mixed[:, 0].long(), mixed_labels)
    for i in range(n):
        pasted = mixed_labels[i] != i
        assert 0.25 * 0.25 * h * w * 0.5 < pasted.sum() <= 0.5 * 0.5 * h * w
        assert (mixed_labels[i][pasted] != i).all()
        # one partner image per target image
        assert len(mixed_labels[i][pasted].unique()) == 1
    # the same generator state gives the same mix
    g2 = torch.Generator().manual_seed(0)
    assert torch.equal(cut_mix(images, labels, generator=g2)[1],
                       mixed_labels)


def test_no_method_steps_or_forwards_on_its_own():
    """Every method is a TeacherStudentModel that leaves the step and the
    forward to the core (one optimiser or one per student; members and
    ensembles predict through it)."""
    from mmkd.detection import (
        DualSoftTeacher,
        MeanTeacherDetector,
        SoftTeacher,
    )
    from mmkd.distillation import FeatureDistiller
    from mmkd.segmentation import DualMeanTeacherSegmentor, SemiSegmentor
    from mmkd.teacher_student import TeacherStudentModel
    from mmkd.volumetric import RAIL, VolumeMeanTeacher
    methods = (SoftTeacher, DualSoftTeacher, MeanTeacherDetector,
               SemiSegmentor, DualMeanTeacherSegmentor, RAIL,
               VolumeMeanTeacher, FeatureDistiller)
    for method in methods:
        assert issubclass(method, TeacherStudentModel), method
        for klass in method.__mro__[:method.__mro__.index(
                TeacherStudentModel)]:
            assert 'train_step' not in vars(klass), klass
            assert 'forward' not in vars(klass), klass
