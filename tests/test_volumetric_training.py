"""3D training through tools/train.py: random MONAI crops follow the
per-sample seeds, so a run resumed with the sampler's skip-ahead gives the
losses of the uninterrupted run."""
import os.path as osp

import pytest

from conftest import load_config, run_tool
from test_training import train_losses

pytestmark = pytest.mark.slow


def _cbct_config(tmp_path, demo_root, max_iters):
    root = osp.join(demo_root, 'cbct_demo') + '/'
    cfg = load_config('configs/supervised/demo/vnet_demo_cbct.py')
    labeled = dict(cfg.train_dataloader.dataset, data_root=root)
    # two labelled volumes per batch through the skip-ahead sampler (its
    # unlabelled part is unused at ratio (2, 0))
    cfg.train_dataloader.dataset = dict(type='SemiDataset', labeled=labeled,
                                        unlabeled=labeled)
    cfg.train_dataloader.sampler = dict(type='SemiSampler', ratio=(2, 0),
                                        group_by_aspect_ratio=False)
    cfg.model.backbone.base_channels = 4
    cfg.model.roi_size = (32, 32, 16)
    for t in cfg.train_dataloader.dataset.labeled.pipeline[1].transforms:
        if 'spatial_size' in t:
            t.spatial_size = (32, 32, 16)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                         val_interval=10**6)
    for key in ('val_cfg', 'val_dataloader', 'val_evaluator'):
        cfg[key] = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=3, max_keep_ckpts=-1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    path = tmp_path / f'cbct_{max_iters}.py'
    cfg.dump(str(path))
    return str(path)


def test_3d_run_with_random_monai_crops_resumes_exactly(tmp_path, demo_root):
    # resume at iteration 3: the worker of the first iterator has
    # prefetched 2 batches, so a resume at 2 would continue a generator that
    # happens to be where the uninterrupted run's is
    cfg5 = _cbct_config(tmp_path, demo_root, 5)
    straight = str(tmp_path / 'straight')
    r = run_tool('tools/train.py', cfg5, '--work-dir', straight)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    resumed = str(tmp_path / 'resumed')
    r = run_tool('tools/train.py', _cbct_config(tmp_path, demo_root, 3),
                 '--work-dir', resumed)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    r = run_tool('tools/train.py', cfg5, '--work-dir', resumed, '--resume')
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    assert 'the sampler skips 3 batches without loading them' in out
    a, b = train_losses(straight), train_losses(resumed)
    assert len(set(a.values())) == 5  # the crops differ between iterations
    for i in range(1, 6):
        assert b[i] == pytest.approx(a[i], rel=1e-5, abs=1e-6), (i, a, b)
