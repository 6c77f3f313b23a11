"""Short real training runs through tools/train.py: the loss drops,
``--resume`` continues exactly, two gloo processes train together."""
import glob
import json
import os.path as osp
import socket

import pytest

from conftest import ROOT, run_tool

pytestmark = pytest.mark.slow


def write_tiny_det_config(tmp_path, demo_root, max_iters, ckpt_interval=1000,
                          **extra):
    """A config inheriting the demo Faster R-CNN, on the tiny demo data,
    without validation."""
    root = osp.join(demo_root, 'coco_demo') + '/'
    lines = [
        f"_base_ = '{ROOT}/configs/supervised/demo/"
        "faster_rcnn_r18_demo_coco_full.py'",
        f"train_dataloader = dict(num_workers=1, dataset=dict("
        f"data_root='{root}'))",
        f"train_cfg = dict(max_iters={max_iters}, val_interval=100000)",
        'val_cfg = None', 'val_dataloader = None', 'val_evaluator = None',
        'test_cfg = None', 'test_dataloader = None', 'test_evaluator = None',
        "default_hooks = dict(logger=dict(interval=1), checkpoint=dict("
        f"interval={ckpt_interval}, save_best=None, max_keep_ckpts=-1))",
        'param_scheduler = [dict(type="LinearLR", start_factor=0.1, '
        'by_epoch=False, begin=0, end=10)]',
    ] + [f'{k} = {v!r}' for k, v in extra.items()]
    path = tmp_path / f'tiny_det_{max_iters}.py'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def train_losses(work_dir):
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')))
    assert files, f'no scalars under {work_dir}'
    losses = {}
    for path in files:
        for line in open(path):
            row = json.loads(line)
            if 'loss' in row:
                losses[row['iter']] = row['loss']
    return losses


def test_short_run_loss_drops(tmp_path, demo_root):
    cfg = write_tiny_det_config(tmp_path, demo_root, max_iters=40)
    wd = str(tmp_path / 'wd')
    r = run_tool('tools/train.py', cfg, '--work-dir', wd)
    assert r.returncode == 0, r.stderr[-3000:]
    losses = train_losses(wd)
    first = sum(losses[i] for i in range(1, 6)) / 5
    last = sum(losses[i] for i in range(36, 41)) / 5
    assert last < 0.7 * first, (first, last)
    assert osp.isfile(osp.join(wd, 'iter_40.pth'))


def test_resume_continues_exactly(tmp_path, demo_root):
    straight = str(tmp_path / 'straight')
    cfg6 = write_tiny_det_config(tmp_path, demo_root, max_iters=6,
                                 ckpt_interval=3)
    r = run_tool('tools/train.py', cfg6, '--work-dir', straight)
    assert r.returncode == 0, r.stderr[-3000:]

    resumed = str(tmp_path / 'resumed')
    cfg3 = write_tiny_det_config(tmp_path, demo_root, max_iters=3,
                                 ckpt_interval=3)
    r = run_tool('tools/train.py', cfg3, '--work-dir', resumed)
    assert r.returncode == 0, r.stderr[-3000:]
    r = run_tool('tools/train.py', cfg6, '--work-dir', resumed, '--resume')
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'resumed epoch: 0, iter: 3' in r.stdout + r.stderr

    a, b = train_losses(straight), train_losses(resumed)
    assert sorted(b) == [1, 2, 3, 4, 5, 6]
    for i in range(1, 7):
        assert b[i] == pytest.approx(a[i], rel=1e-5, abs=1e-6), (i, a, b)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_gloo_processes_through_dist_train(tmp_path, demo_root):
    import subprocess
    import sys
    cfg = write_tiny_det_config(tmp_path, demo_root, max_iters=4,
                                ckpt_interval=4)
    wd = str(tmp_path / 'dist')
    env = dict(PYTHON=sys.executable, PORT=str(_free_port()),
               OMP_NUM_THREADS='1')
    import os
    r = subprocess.run(['bash', 'tools/dist_train.sh', cfg, '2',
                        '--work-dir', wd], cwd=ROOT, capture_output=True,
                       text=True, timeout=600, env=dict(os.environ, **env))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert 'Distributed training: True' in out
    assert "'GPU number': 2" in out or 'GPU number: 2' in out
    assert osp.isfile(osp.join(wd, 'iter_4.pth'))
    assert len(train_losses(wd)) == 4


def test_test_tool_dumps_predictions_and_paints(tmp_path, demo_root):
    """tools/test.py on a checkpoint: --out writes the predictions, --show-dir
    the painted images, and the metric is reported."""
    import pickle

    from conftest import load_config, point_det_config_at
    cfg_train = write_tiny_det_config(tmp_path, demo_root, max_iters=2,
                                      ckpt_interval=2)
    wd = str(tmp_path / 'wd')
    r = run_tool('tools/train.py', cfg_train, '--work-dir', wd)
    assert r.returncode == 0, r.stderr[-3000:]
    cfg = point_det_config_at(
        load_config('configs/supervised/demo/faster_rcnn_r18_demo_coco_full.py'),
        demo_root)
    cfg.dump(str(tmp_path / 'test_cfg.py'))
    out = str(tmp_path / 'preds.pkl')
    r = run_tool('tools/test.py', str(tmp_path / 'test_cfg.py'),
                 osp.join(wd, 'iter_2.pth'), '--work-dir',
                 str(tmp_path / 'test'), '--out', out, '--show-dir', 'vis')
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'coco/bbox_mAP' in r.stdout + r.stderr
    preds = pickle.load(open(out, 'rb'))
    assert len(preds) == 12 and 'pred_instances' in preds[0]
    painted = glob.glob(osp.join(str(tmp_path / 'test'), '*', 'vis', '*'))
    assert len(painted) == 12
