"""tools/analysis_tools/run_demo.py: a semi-supervised config and its control,
trained side
by side (``make demo``), each with its own log and row."""
import glob
import os
import os.path as osp
from datetime import datetime

import pytest

from conftest import ROOT, run_tool

MT = osp.join(ROOT, 'configs', 'mean_teacher', 'demo')


def run_span(work_dir):
    """When a run started (mmengine's timestamped log folder) and ended (its
    last checkpoint)."""
    stamp = osp.basename(sorted(glob.glob(osp.join(work_dir, '2*')))[0])
    start = datetime.strptime(stamp, '%Y%m%d_%H%M%S').timestamp()
    end = os.stat(osp.join(work_dir, 'last_checkpoint')).st_mtime
    return start, end


@pytest.mark.slow
def test_side_by_side_trains_the_control_at_the_same_time(tmp_path,
                                                          demo_root):
    root = osp.join(demo_root, 'cityscapes_demo') + '/'
    at = f"data_root='{root}'"
    config = tmp_path / 'mt.py'
    config.write_text('\n'.join([
        f"_base_ = '{MT}/mean_teacher_deeplabv3_mbv2_demo_"
        "cityscapes_1-8.py'",
        f"train_dataloader = dict(dataset=dict(labeled=dict({at}), "
        f"unlabeled=dict({at})))",
        *(f"{key} = dict(dataset=dict({at}))"
          for key in ('val_dataloader', 'test_dataloader'))]) + '\n')
    work_root = tmp_path / 'wd'
    r = run_tool('tools/analysis_tools/run_'
                 'demo.py', str(config), '--side-by-side',
                 '--work-root', str(work_root), '--cfg-options',
                 'model.student.init_cfg=None', 'train_cfg.max_iters=4',
                 'train_cfg.val_interval=4',
                 'default_hooks.checkpoint.interval=4',
                 'default_hooks.logger.interval=1', '--progress-every', '1')
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    rows = [line for line in r.stdout.splitlines() if line.startswith('| mt')]
    assert [row.split(' | ')[0] for row in rows] == ['| mt', '| mt_control']
    assert all(' | 4 | mIoU | ' in row for row in rows)
    # each run's output in its own file, not interleaved on the console
    for name in ('mt', 'mt_control'):
        log = open(work_root / f'{name}.log').read()
        assert 'Iter(train) [4/4]' in log and 'Iter(test)' in log
    assert 'Iter(train)' not in r.stdout
    # but the console shows their progress while they train
    progress = [line for line in r.stdout.splitlines()
                if line.startswith('  [') and 'mt_control: ' in line]
    assert progress, r.stdout[-2000:]
    assert any('iteration ' in line and '/4, eta ' in line
               for line in progress), progress
    # the two trainings overlap in time
    (a0, a1), (b0, b1) = (run_span(str(work_root / n))
                          for n in ('mt', 'mt_control'))
    assert a0 <= b1 and b0 <= a1


def test_progress_line_reads_each_logs_last_iteration(tmp_path):
    import sys
    sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))
    from run_demo import progress_line
    log = tmp_path / 'a.log'
    log.write_text('x Iter(train) [ 50/1000]  lr: 1e-3  eta: 0:05:00  t\n'
                   'x Iter(train) [100/1000]  lr: 1e-3  eta: 0:04:40  t\n'
                   'x Iter(val) [1/5] eta: 0:00:01\n')
    line = progress_line([('st', str(log)), ('ctl', str(tmp_path / 'no'))])
    assert line == ('st: iteration 100/1000, eta 0:04:40; ctl: starting')
