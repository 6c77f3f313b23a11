"""RAIL: group turns, first-round losses, each teacher following only its
own group's V-Net (per-group EMA steps), one optimiser per student, and a
short run through tools/train.py that resumes exactly and tests."""
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.structures import BaseDataElement

from conftest import load_config, run_tool
from mmkd.engine import MemberOptimWrapperConstructor
from mmkd.registry import MODELS
from mmkd.teacher_student import EMATeacherHook

NET = dict(in_channels=1, num_classes=2, base_channels=4)


def _segmentor(net):
    return dict(type='VolumeSegmentor', backbone=dict(type=net, **NET),
                dice_squared=True, roi_size=(32, 16, 16))


def _rail(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(type='mmkd.RAIL', vnet=_segmentor('VNet'),
                             resvnet=_segmentor('ResVNet'),
                             group_iters=2, rampup_iters=4, **kwargs))


def _batch():
    x_l, x_u = torch.rand(1, 32, 16, 16), torch.rand(1, 32, 16, 16)
    y = (x_l[0] > 0.5).long()
    sample = BaseDataElement()
    sample.gt_seg_map = y
    return dict(inputs=dict(sup=[x_l], unsup_teacher=[x_u],
                            unsup_student=[x_u]),
                data_samples=dict(sup=[sample],
                                  unsup_teacher=[BaseDataElement()],
                                  unsup_student=[BaseDataElement()]))


def _state(module):
    return [p.detach().clone() for p in module.parameters()]


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_groups_take_turns_and_each_teacher_follows_its_own_vnet():
    model = _rail()
    optim = MemberOptimWrapperConstructor({
        name: dict(type='OptimWrapper',
                   optimizer=dict(type='SGD', lr=0.1, momentum=0.9))
        for name in model.student_names})(model)
    assert set(optim.keys()) == set(model.student_names)
    # the two groups start from different weights
    assert not _same(_state(model.vnet_0), _state(model.vnet_1))
    hook = EMATeacherHook(momentum=0.001, warmup=True)
    hub = MessageHub.get_current_instance()
    groups, keys = [], []
    for it in range(6):
        hub.update_info('iter', it)
        before = {n: _state(getattr(model, n)) for n in model.member_names}
        log = model.train_step(_batch(), optim)
        hook.after_train_iter(SimpleNamespace(model=model, iter=it), it)
        g = int(log['group'])
        groups.append(g)
        keys.append(sorted(k for k in log if 'loss_dfs' in k))
        changed = {n for n in model.member_names
                   if not _same(before[n], _state(getattr(model, n)))}
        # the group's students and its teacher move; nothing of the other
        assert changed == {f'vnet_{g}', f'resvnet_{g}', f'teacher_{g}'}
        # the EMA warm-up counts the group's own steps: after its first
        # step d = 0, the teacher is the V-Net's copy
        if it in (0, 2):
            assert _same(_state(getattr(model, f'teacher_{g}')),
                         _state(getattr(model, f'vnet_{g}')))
    assert groups == [0, 0, 1, 1, 0, 0]
    assert model.group_steps.tolist() == [4, 2]
    # DFS / CAL only after a group's first round (2 steps)
    assert keys[:4] == [[]] * 4
    assert keys[4] == ['resvnet_0.loss_dfs', 'vnet_0.loss_dfs']


def test_the_ensemble_is_the_mean_softmax_of_the_four_students():
    model = _rail().eval()
    with torch.no_grad():  # students that disagree
        for name in model.student_names:
            for p in getattr(model, name).parameters():
                p.add_(0.3 * torch.randn_like(p))
    x = torch.rand(1, 32, 16, 16)  # one window: the whole patch
    probs = torch.stack([getattr(model, n)(x[None]).softmax(1)
                         for n in model.student_names])
    mean = probs.mean(0)[0].argmax(0)
    # the mean of the softmaxes, not their logits' or one student's
    assert not torch.equal(mean, probs[0, 0].argmax(0))
    sample = model([x], [BaseDataElement()], mode='predict')[0]
    assert torch.equal(sample.pred_seg_map, mean)
    with pytest.raises(ValueError, match='is an ensemble'):
        model([x], mode='tensor')
    # a member predicts with its own sliding window
    model.predict_on = 'teacher_1'
    sample = model([x], [BaseDataElement()], mode='predict')[0]
    assert torch.equal(sample.pred_seg_map,
                       model.teacher_1(x[None])[0].argmax(0))


def test_optimisers_must_name_trainable_members():
    model = _rail()
    cfg = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))
    for name in ('teacher_0', 'nobody'):
        with pytest.raises(ValueError, match='not a trainable member'):
            MemberOptimWrapperConstructor({name: cfg})(model)


def _config(tmp_path, demo_root, iters, val=False):
    root = osp.join(demo_root, 'cbct_demo') + '/'
    cfg = load_config('configs/rail/demo/rail_vnet_demo_cbct.py')
    patch = (32, 32, 16)
    for part in ('labeled', 'unlabeled'):
        ds = cfg.train_dataloader.dataset[part]
        ds.data_root = root
        for t in ds.pipeline[1].transforms:
            for key in ('spatial_size', 'roi_size'):
                if key in t:
                    t[key] = patch
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = root
    for student in (cfg.model.vnet, cfg.model.resvnet):
        student.backbone.base_channels = 4
        student.roi_size = patch
    cfg.model.group_iters = 1
    cfg.model.rampup_iters = 2
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters if val else 10**6
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=3, max_keep_ckpts=-1)
    if not val:
        for key in ('val_cfg', 'val_dataloader', 'val_evaluator'):
            cfg[key] = None
    path = tmp_path / f'rail_{iters}_{val}.py'
    cfg.dump(str(path))
    return str(path)


@pytest.mark.slow
def test_rail_resumes_exactly_and_tests_with_the_ensemble(tmp_path,
                                                          demo_root):
    from test_training import train_losses
    straight = str(tmp_path / 'straight')
    r = run_tool('tools/train.py', _config(tmp_path, demo_root, 5),
                 '--work-dir', straight)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    resumed = str(tmp_path / 'resumed')
    r = run_tool('tools/train.py', _config(tmp_path, demo_root, 3),
                 '--work-dir', resumed)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    r = run_tool('tools/train.py', _config(tmp_path, demo_root, 5),
                 '--work-dir', resumed, '--resume')
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    assert 'vnet_1.loss_dfs' in out  # the groups' later rounds ran
    a, b = train_losses(straight), train_losses(resumed)
    # both groups, teachers, four optimisers and the step counters resume
    for i in range(1, 6):
        assert b[i] == pytest.approx(a[i], rel=1e-5, abs=1e-6), (i, a, b)
    ckpt = osp.join(straight, 'iter_3.pth')
    state = torch.load(ckpt, weights_only=False)
    assert state['state_dict']['group_steps'].tolist() == [2, 1]
    # the students' keys are the unwrapped model's (mmengine loads those)
    assert 'vnet_0.backbone.enc.0.body.0.weight' in state['state_dict']
    assert not [k for k in state['state_dict'] if '.module.' in k]
    assert set(state['optimizer']) >= {'vnet_0', 'resvnet_0', 'vnet_1',
                                       'resvnet_1'}
    test_dir = tmp_path / 'test'
    r = run_tool('tools/test.py', _config(tmp_path, demo_root, 5, val=True),
                 ckpt, '--work-dir', str(test_dir), '--out-dir', 'nifti',
                 '--show-dir', 'pictures')
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert 'cbct/HD95_mm' in out and 'cbct/Dice' in out
    # NIfTI predictions keep the input's grid, affine and spacing
    import nibabel as nib
    root = osp.join(demo_root, 'cbct_demo')
    for case in open(osp.join(root, 'val.txt')).read().split():
        src = nib.load(osp.join(root, 'images', case + '.nii.gz'))
        pred = nib.load(str(test_dir / 'nifti' / (case + '.nii.gz')))
        assert pred.shape == src.shape
        assert (pred.affine == src.affine).all()
        assert pred.header.get_zooms() == src.header.get_zooms()
        assert set(pred.get_fdata().ravel().tolist()) <= {0.0, 1.0}
        assert (test_dir / 'pictures' / (case + '.png')).is_file()


def test_3d_mean_teacher_consistency_is_the_mse_of_the_softmaxes():
    model = MODELS.build(dict(
        type='mmkd.VolumeMeanTeacher',
        student=dict(type='VolumeSegmentor', backbone=dict(type='VNet',
                                                           **NET),
                     roi_size=(32, 16, 16)),
        noise_std=0.0))
    x = torch.rand(2, 1, 32, 16, 16)
    targets, _ = model.pseudo_label(list(x), None)
    assert torch.allclose(targets, model.teacher.backbone(x).softmax(1))
    inputs, same = model.to_student_view(targets, list(x), None)
    loss = model.unsup_loss(inputs, same, {})['loss_consistency']
    probs = model.student.backbone(x).softmax(1)
    assert loss.item() == pytest.approx(((probs - targets)**2).mean().item())
    loss.backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert any(p.grad is not None for p in model.student.parameters())


def test_3d_mean_teacher_joint_forward_gives_the_separate_losses():
    """One student forward over labelled + unlabelled patches (the default)
    equals the template's two forwards when no layer mixes the batch."""
    torch.manual_seed(0)
    net = dict(type='VNet', norm='none', **NET)
    model = MODELS.build(dict(
        type='mmkd.VolumeMeanTeacher', noise_std=0.0, unsup_weight=3.0,
        student=dict(type='VolumeSegmentor', backbone=net,
                     roi_size=(32, 16, 16))))
    with torch.no_grad():  # a teacher that differs from the student
        for p in model.teacher.parameters():
            p.add_(0.05 * torch.randn_like(p))
    batch = _batch()
    joint = model.loss(batch['inputs'], batch['data_samples'])
    model.joint_forward = False
    separate = model.loss(batch['inputs'], batch['data_samples'])
    assert set(joint) == set(separate) == {
        'sup_loss_ce', 'sup_loss_dice', 'unsup_loss_consistency'}
    for key in joint:
        assert torch.allclose(joint[key], separate[key], atol=1e-6), key
    assert joint['unsup_loss_consistency'] > 0
    # one forward has one set of BatchNorm statistics: refused
    with pytest.raises(ValueError, match='joint_forward=False'):
        MODELS.build(dict(
            type='mmkd.VolumeMeanTeacher', student_unsup_norm='batch',
            student=dict(type='VolumeSegmentor', backbone=net,
                         roi_size=(32, 16, 16))))


@pytest.mark.slow
def test_3d_mean_teacher_trains_two_iterations(tmp_path, demo_root):
    cfg = load_config('configs/mean_teacher/demo/mean_teacher_vnet_demo_'
                      'cbct.py')
    root = osp.join(demo_root, 'cbct_demo') + '/'
    patch = (32, 32, 16)
    for part in ('labeled', 'unlabeled'):
        ds = cfg.train_dataloader.dataset[part]
        ds.data_root = root
        for t in ds.pipeline[1].transforms:
            for key in ('spatial_size', 'roi_size'):
                if key in t:
                    t[key] = patch
    cfg.val_dataloader.dataset.data_root = root
    cfg.model.student.backbone.base_channels = 4
    cfg.model.student.roi_size = patch
    cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = 2
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    path = str(tmp_path / 'mt3d.py')
    cfg.dump(path)
    r = run_tool('tools/train.py', path, '--work-dir', str(tmp_path / 'wd'))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    assert 'unsup_loss_consistency' in out and 'teacher/cbct/Dice' in out


@pytest.mark.slow
def test_rail_trains_in_two_gloo_processes(tmp_path, demo_root):
    """tools/dist_train.sh on CPU: each student wrapped on its own, both
    groups step, and rank 0's checkpoint holds the whole RAIL state."""
    import os
    import subprocess
    import sys

    from test_training import _free_port, train_losses
    work_dir = str(tmp_path / 'dist')
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()),
               OMP_NUM_THREADS='1')
    r = subprocess.run(['bash', 'tools/dist_train.sh',
                        _config(tmp_path, demo_root, 3), '2', '--work-dir',
                        work_dir], cwd=osp.dirname(osp.dirname(__file__)),
                       capture_output=True, text=True, timeout=600, env=env)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    assert 'Distributed training: True' in out
    assert 'vnet_0.loss_dfs' in out  # group 0's second turn ran
    assert len(train_losses(work_dir)) == 3
    state = torch.load(osp.join(work_dir, 'iter_3.pth'), weights_only=False)
    assert state['state_dict']['group_steps'].tolist() == [2, 1]
    # the students' keys are the unwrapped model's (mmengine loads those)
    assert 'vnet_0.backbone.enc.0.body.0.weight' in state['state_dict']
    assert not [k for k in state['state_dict'] if '.module.' in k]
    assert set(state['optimizer']) >= {'vnet_0', 'resvnet_0', 'vnet_1',
                                       'resvnet_1'}


@pytest.fixture
def one_rank_process_group():
    """A gloo group of this process alone: enough for DDP wrappers."""
    import torch.distributed as dist

    from test_training import _free_port
    dist.init_process_group('gloo', init_method='tcp://127.0.0.1:'
                            f'{_free_port()}', rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_students_wrapped_one_by_one_save_and_load_their_keys(
        one_rank_process_group, tmp_path):
    """Under ``MMSeparateDistributedDataParallel`` the checkpoint named the
    students ``vnet_0.module.*``; mmengine's loader (resume, test.py) wants
    ``vnet_0.*`` and loads non-strictly, so it kept random students.  Now
    the keys are the unwrapped model's, and a checkpoint of the wrapped
    model fills a plain one (and back) strictly."""
    from mmengine.model import MMSeparateDistributedDataParallel
    from mmengine.runner.checkpoint import load_state_dict

    from mmkd.utils import check_checkpoint_fills_model
    wrapped = MMSeparateDistributedDataParallel(_rail(), device_ids=None)
    saved = wrapped.module.state_dict()
    assert not [k for k in saved if '.module.' in k]
    plain = _rail()
    plain.requires_grad_(False)
    for p in plain.parameters():
        p.add_(1)
    assert set(saved) == set(plain.state_dict())
    load_state_dict(plain, saved, strict=True)  # mmengine's loader
    assert _same(_state(plain), _state(wrapped.module))
    for p in plain.parameters():
        p.add_(1)
    load_state_dict(wrapped.module, plain.state_dict(), strict=True)
    assert _same(_state(plain), _state(wrapped.module))
    # tools/test.py's check (torch's loader) accepts it on a wrapped model
    torch.save(dict(state_dict=saved), tmp_path / 'rail.pth')
    check_checkpoint_fills_model(wrapped, str(tmp_path / 'rail.pth'))


def test_3d_mean_teacher_noise_is_clipped():
    """UA-MT's teacher input: x + clip(N(0, σ²), ±clip). At σ = 10 nearly
    every voxel's noise is clipped: the teacher sees x ± 0.2 exactly."""
    model = MODELS.build(dict(
        type='mmkd.VolumeMeanTeacher', noise_std=10.0, noise_clip=0.2,
        student=dict(type='VolumeSegmentor', backbone=dict(type='VNet',
                                                           **NET),
                     roi_size=(32, 16, 16))))
    seen = []
    model.teacher.backbone.register_forward_pre_hook(
        lambda module, args: seen.append(args[0].clone()))
    x = torch.rand(2, 1, 32, 16, 16)
    model.pseudo_label(list(x), None)
    noise = seen[0] - x
    assert noise.abs().max() <= 0.2 + 1e-6
    assert torch.isclose(noise.abs(), torch.tensor(0.2)).float().mean() > 0.9
    assert (noise > 0).any() and (noise < 0).any()
