"""State that differs between distributed ranks, in two gloo processes
(forked, one thread each): what every rank must agree on, and what each
rank must get back on ``--resume``.  Each test failed before its fix."""
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from test_training import _free_port

WORLD = 2


def _worker(rank, case, port, out):
    torch.set_num_threads(1)  # forked from a process that used OpenMP
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank, world_size=WORLD)
    try:
        torch.save(CASES[case](rank, out), osp.join(out, f'{rank}.pt'))
    finally:
        dist.destroy_process_group()


def _run(case, tmp_path):
    mp.start_processes(_worker, args=(case, _free_port(), str(tmp_path)),
                       nprocs=WORLD, start_method='fork')
    return [torch.load(tmp_path / f'{r}.pt', weights_only=False)
            for r in range(WORLD)]


# -- RAIL: the best student ---------------------------------------------------
def _rail_best(rank, out):
    """Group 0 after its first round; each rank's own Dice losses would
    pick another best student (rank 0: vnet_0, rank 1: resvnet_0)."""
    from test_rail import _batch, _rail

    model = _rail()
    model.group_steps[0] = model.group_iters  # past the first round
    own = [[0.2, 0.3, 0.4, 0.4], [0.5, 0.1, 0.4, 0.4]][rank]
    for name, dice in zip(model.student_names, own):
        def loss_by_logits(logits, samples, dice=dice):
            return dict(loss_ce=logits.sum() * 0,
                        loss_dice=torch.tensor(dice, requires_grad=True))
        getattr(model, name).loss_by_logits = loss_by_logits
    batch = model.data_preprocessor(_batch(), True)
    x = [torch.stack(list(batch['inputs'][k]))
         for k in ('sup', 'unsup_student', 'unsup_teacher')]
    losses = model.group_losses(0, x[0], batch['data_samples']['sup'], x[1],
                                x[2])
    return [n for n in model.group(0) if losses[f'{n}.is_best'].item() == 1]


def test_rail_ranks_take_the_same_best_student(tmp_path):
    """From the mean Dice over the ranks: (0.2+0.5)/2 > (0.3+0.1)/2, so
    resvnet_0 on both (was vnet_0 on rank 0 and resvnet_0 on rank 1)."""
    assert _run('rail_best', tmp_path) == [['resvnet_0'], ['resvnet_0']]


# -- EMA teachers' BatchNorm statistics ---------------------------------------
def _ema_buffers(rank, out):
    from mmkd.teacher_student import EMATeacherHook
    torch.manual_seed(0)
    holder = nn.Module()
    holder.student = nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2))
    holder.teacher = nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2))
    # each rank's student has seen its own batches
    holder.student[1].running_mean.fill_(float(rank))
    holder.student[1].running_var.fill_(1.0 + 2 * rank)
    hook = EMATeacherHook(momentum=0.5, pairs=[('student', 'teacher')])
    hook.after_train_iter(SimpleNamespace(model=holder, iter=4), 0)
    bn = holder.teacher[1]
    return bn.running_mean.clone(), bn.running_var.clone()


def test_ema_teachers_have_the_same_statistics_on_every_rank(tmp_path):
    """buffers='copy' took each rank's student statistics: two teachers.
    Now the mean over the ranks, the same on both."""
    (mean0, var0), (mean1, var1) = _run('ema_buffers', tmp_path)
    assert torch.equal(mean0, mean1) and torch.equal(var0, var1)
    assert mean0.tolist() == [0.5, 0.5] and var0.tolist() == [2.0, 2.0]


# -- the dynamic threshold's score buffer -------------------------------------
def _threshold(rank, out):
    from mmkd.teacher_student.pseudo_label import DynamicDualThreshold
    make = dict(num_classes=2, buffer_size=6, min_samples=2,
                update_interval=1)
    thr = DynamicDualThreshold(**make)
    thr.observe(torch.tensor([0.1, 0.2, 0.9]) + rank * 0.05,
                torch.tensor([0, 0, 1]))
    thr.update(1)
    if rank == 0:  # the checkpoint: rank 0's state
        torch.save(thr.state_dict(), osp.join(out, 'thr.pth'))
    dist.barrier()
    resumed = DynamicDualThreshold(**make)
    resumed.load_state_dict(torch.load(osp.join(out, 'thr.pth')))
    # the next step, in the uninterrupted run and the resumed one
    for t in (thr, resumed):
        t.observe(torch.tensor([0.7 + rank * 0.1]), torch.tensor([0]))
        t.update(2)
    return thr.state_dict(), resumed.state_dict()


def test_the_score_buffer_is_global_and_resumes_exactly(tmp_path):
    """Every rank holds every rank's scores (rank order), so rank 0's
    checkpoint is the whole buffer and a resumed run continues as the
    uninterrupted one on each rank (it gathered N copies of rank 0's)."""
    (kept0, resumed0), (kept1, resumed1) = _run('threshold', tmp_path)
    for key in kept0:
        assert torch.equal(kept0[key], kept1[key]), key
        assert torch.equal(kept0[key], resumed0[key]), key
        assert torch.equal(kept1[key], resumed1[key]), key
    assert kept0['num_observed'].tolist() == [6, 2]
    assert kept0['score_buffer'][0].tolist() == pytest.approx(
        [0.1, 0.2, 0.15, 0.25, 0.7, 0.8])


# -- the random generators of every rank --------------------------------------
def _rng(rank, out):
    from mmengine.hooks import CheckpointHook

    from mmkd.engine.hooks import RNGStateHook
    runner = SimpleNamespace(
        iter=3, max_iters=10, _resume=True, train_loop=None, val_loop=None,
        hooks=[CheckpointHook(interval=2, by_epoch=False)])
    hook = RNGStateHook()
    torch.manual_seed(100 + rank)  # each rank draws its own numbers
    hook.after_train_iter(runner, 0)  # iteration 4: a checkpoint is due
    checkpoint = {}
    if rank == 0:  # only rank 0 saves
        hook.before_save_checkpoint(runner, checkpoint)
        torch.save(checkpoint, osp.join(out, 'ckpt.pth'))
    want = torch.rand(3)
    dist.barrier()
    torch.manual_seed(0)
    hook.after_load_checkpoint(
        runner, torch.load(osp.join(out, 'ckpt.pth'), weights_only=False))
    return want, torch.rand(3)


def test_each_rank_resumes_its_own_generators(tmp_path):
    """The checkpoint held rank 0's states only; rank 1 resumed with
    them."""
    (want0, got0), (want1, got1) = _run('rng', tmp_path)
    assert torch.equal(want0, got0) and torch.equal(want1, got1)
    assert not torch.equal(want0, want1)


# -- the global batch: the sampler's share per rank ---------------------------
def _batches(sampler, batch, iters, skip=0):
    import itertools
    sampler.units_per_batch = batch // sampler.unit
    sampler.skip(skip)
    it = iter(sampler)
    return [list(itertools.islice(it, batch)) for _ in range(iters)]


def _global_batch(rank, out):
    from test_semi_data import _semi

    from mmkd.datasets import SemiSampler
    make = dict(ratio=(1, 3), seed=5)
    return (_batches(SemiSampler(_semi(), **make), 4, 3),
            _batches(SemiSampler(_semi(), **make), 4, 2, skip=4))


def test_two_processes_see_the_global_batch_of_one(tmp_path):
    """1 process x batch 8 and 2 processes x batch 4 (units of 1 labelled
    + 3 unlabelled): per iteration the same images with the same
    augmentation seeds, rank 0's block then rank 1's -- also after a
    resume (``skip``); every rank's batch starts with a labelled image."""
    import itertools

    from test_semi_data import _semi

    from mmkd.datasets import SemiSampler
    one = _batches(SemiSampler(_semi(), ratio=(1, 3), seed=5), 8, 3)
    (rank0, resumed0), (rank1, resumed1) = _run('global_batch', tmp_path)
    assert [a + b for a, b in zip(rank0, rank1)] == one
    assert [a + b for a, b in zip(resumed0, resumed1)] == one[1:]
    labelled = len(_semi().datasets[0])
    assert all(batch[0][0] < labelled
               for batch in itertools.chain(rank0, rank1))


CASES = dict(rail_best=_rail_best, ema_buffers=_ema_buffers,
             threshold=_threshold, rng=_rng, global_batch=_global_batch)


# -- two-process demo runs (slow) ---------------------------------------------
def _dist_train(cfg, tmp_path, iters):
    """``iters`` iterations of ``cfg`` in two processes, a checkpoint at the
    end, validation only there: (exit status, output)."""
    import os
    import subprocess
    import sys

    from conftest import ROOT
    cfg.model.student.init_cfg = None
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = 1000
    cfg.default_hooks.checkpoint.interval = iters
    config, work_dir = str(tmp_path / 'cfg.py'), str(tmp_path / 'wd')
    cfg.dump(config)
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()),
               OMP_NUM_THREADS='1')
    r = subprocess.run(['bash', 'tools/dist_train.sh', config, '2',
                        '--work-dir', work_dir], cwd=ROOT,
                       capture_output=True, text=True, timeout=900, env=env)
    return r.returncode, r.stdout + r.stderr


@pytest.mark.slow
def test_soft_teacher_demo_trains_in_two_processes(tmp_path, demo_root):
    """The demo Soft Teacher (global_batch=8: 4 per process, kept) in two
    gloo processes: it trains, logs the contract's line, and its teacher
    and student are saved with unwrapped keys."""
    from conftest import config_file, load_config, point_semi_det_config_at
    cfg = point_semi_det_config_at(load_config(config_file(
        'soft_teacher_faster_rcnn_r18_demo_coco_10p')), demo_root)
    # the statistics hook reads the demo set's hidden labels (not here)
    cfg.custom_hooks = [h for h in cfg.custom_hooks
                        if h.type != 'PseudoLabelStatsHook']
    cfg.global_batch = dict(size=8)
    rc, out = _dist_train(cfg, tmp_path, iters=2)
    assert rc == 0, out[-4000:]
    assert ('global batch 8 (1 labelled : 3 unlabelled per unit) kept on 2 '
            'processes: 4 per process') in out
    state = torch.load(tmp_path / 'wd' / 'iter_2.pth', weights_only=False)
    assert any(k.startswith('teacher.') for k in state['state_dict'])
    # iter_2.pth was written again after the last validation: every rank's
    # generators of that moment
    assert len(state['rng_state']['ranks']) == 2


@pytest.mark.slow
def test_segmentation_mean_teacher_with_dynamic_thresholds_in_two_processes(
        tmp_path, demo_root):
    """The demo mean teacher with dynamic thresholds in two processes: the
    score buffer is global, so rank 0's checkpoint holds both ranks' scores
    of the step -- 2 x ``max_observed_per_class`` of a class seen in
    thousands of pixels (one rank's alone: 1 x)."""
    from conftest import config_file, load_config, point_semi_seg_config_at
    cfg = point_semi_seg_config_at(load_config(config_file(
        'mean_teacher_deeplabv3_mbv2_demo_cityscapes_1-8_dynamic')),
        demo_root)
    rc, out = _dist_train(cfg, tmp_path, iters=1)
    assert rc == 0, out[-4000:]
    assert 'global batch:' in out
    state = torch.load(tmp_path / 'wd' / 'iter_1.pth',
                       weights_only=False)['state_dict']
    observed = [v for k, v in state.items() if k.endswith('num_observed')]
    per_call = cfg.model.pseudo_labeller.get('max_observed_per_class', 500)
    assert observed and int(observed[0].max()) == 2 * per_call
