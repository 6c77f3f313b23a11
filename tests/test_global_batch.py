"""The global-batch contract of a config (``global_batch = dict(size=N)``):
kept where the process count divides it, scaled by mmengine's rule where
not, and stated in one line either way."""
import pytest
from mmengine.config import Config

from conftest import config_file, load_config
from mmkd.utils import ConfigError, apply_global_batch


def _semi_cfg(size=None, batch=5, ratio=(1, 4), **spec):
    cfg = Config(dict(train_dataloader=dict(
        batch_size=batch, sampler=dict(type='mmkd.SemiSampler',
                                       ratio=ratio))))
    if size is not None:
        cfg.global_batch = dict(size=size, **spec)
    return cfg


@pytest.mark.parametrize('world,per_process', [(1, 40), (2, 20), (4, 10),
                                               (8, 5)])
def test_a_global_batch_that_divides_is_kept(world, per_process):
    cfg = _semi_cfg(size=40, max_per_process=40)
    line = apply_global_batch(cfg, world)
    assert cfg.train_dataloader.batch_size == per_process
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=40)
    assert line.startswith(f'global batch 40 (1 labelled : 4 unlabelled '
                           f'per unit) kept on {world} processes: '
                           f'{per_process} per process')
    assert f'BatchNorm statistics and batch-wise mixing (CutMix pairs) over ' \
        f'{per_process} images' in line


def test_a_global_batch_that_cannot_be_kept_says_so_and_scales_lr():
    """8 units on 3 processes: 3 units (15 images) each, global 45, lr
    x1.125; on 16 processes: at least one unit each, global 80, lr x2; on
    2 processes with at most 5 images each (the config's batch): global
    10, lr x0.25."""
    cfg = _semi_cfg(size=40, max_per_process=40)
    line = apply_global_batch(cfg, 3)
    assert cfg.train_dataloader.batch_size == 15
    assert 'cannot be kept on 3 processes (8 units do not divide)' in line
    assert 'global 45; learning rate scaled x1.125' in line
    cfg = _semi_cfg(size=40)
    assert 'scaled x2' in apply_global_batch(cfg, 16)
    assert cfg.train_dataloader.batch_size == 5
    cfg = _semi_cfg(size=40)
    line = apply_global_batch(cfg, 2)
    assert cfg.train_dataloader.batch_size == 5
    assert ('cannot be kept on 2 processes (at most 5 per process: '
            'global_batch.max_per_process)') in line
    assert 'global 10; learning rate scaled x0.25' in line


def test_without_a_global_batch_nothing_changes_and_the_line_says_it():
    cfg = _semi_cfg(batch=5)
    line = apply_global_batch(cfg, 4)
    assert cfg.train_dataloader.batch_size == 5 and 'auto_scale_lr' not in cfg
    assert line.startswith('global batch: 20 images (4 processes x 5)')
    assert 'nothing was scaled' in line


def test_a_global_batch_must_be_whole_units():
    with pytest.raises(ConfigError, match='whole number of 5-image units'):
        apply_global_batch(_semi_cfg(size=42), 2)


@pytest.mark.parametrize('name,size', [
    ('soft-teacher_faster-rcnn_r50_fpn_180k_semi-0.1-coco', 40),
    ('mean-teacher_deeplabv3plus_r101-os16_240e_semi-1-8-cityscapes', 16),
])
def test_full_size_configs_state_their_global_batch(name, size):
    """Kept on the GPUs they were tuned for; on one GPU (which holds the
    config's batch) the learning rate follows the smaller global batch."""
    cfg = load_config(config_file(name))
    per_gpu = cfg.train_dataloader.batch_size
    assert cfg.global_batch.size == size
    assert 'kept' in apply_global_batch(cfg, size // per_gpu)
    assert cfg.train_dataloader.batch_size == per_gpu
    line = apply_global_batch(cfg, 1)
    assert cfg.train_dataloader.batch_size == per_gpu
    assert f'scaled x{per_gpu / size:g}' in line


def test_the_gpu_smoke_script_names_tests_that_exist():
    """tools/gpu_smoke.sh runs on GPU machines only; here: it parses and
    every test it selects is collected."""
    import re
    import subprocess
    import sys

    from conftest import ROOT
    script = open(f'{ROOT}/tools/gpu_smoke.sh').read()
    assert subprocess.run(['bash', '-n', f'{ROOT}/tools/gpu_smoke.sh']
                          ).returncode == 0
    selected = re.findall(r'"?(tests/[\w/.\-]+(?:::[\w\[\]/.\-]+)?)"?',
                          script)
    assert len(selected) >= 10
    r = subprocess.run([sys.executable, '-m', 'pytest', '--collect-only',
                        '-q', '-m', '', *selected], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:]
