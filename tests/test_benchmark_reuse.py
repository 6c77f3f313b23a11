"""tools/analysis_tools/benchmark_utils.py: a table command reuses finished
runs and resumes
runs that were cut off, instead of taking any run with a checkpoint as
finished."""
import os.path as osp
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))
import benchmark_utils as benchmark  # noqa: E402


def fake_run(work_dir, train_cfg, checkpoint):
    """A work dir as mmengine leaves it: the dumped config and the pointer
    to the last checkpoint."""
    work_dir.mkdir(parents=True)
    (work_dir / 'cfg.py').write_text(f'train_cfg = {train_cfg!r}\n')
    (work_dir / 'last_checkpoint').write_text(
        osp.join(str(work_dir), checkpoint))


@pytest.mark.parametrize('train_cfg, checkpoint, done', [
    (dict(type='IterBasedTrainLoop', max_iters=3000), 'iter_1000.pth', False),
    (dict(type='IterBasedTrainLoop', max_iters=3000), 'iter_3000.pth', True),
    (dict(type='EpochBasedTrainLoop', max_epochs=4), 'epoch_3.pth', False),
    (dict(type='EpochBasedTrainLoop', max_epochs=4), 'epoch_4.pth', True),
])
def test_finished_reads_the_end_from_the_dumped_config(
        tmp_path, train_cfg, checkpoint, done):
    fake_run(tmp_path / 'run', train_cfg, checkpoint)
    assert benchmark.finished(str(tmp_path / 'run')) is done


def test_a_run_without_checkpoint_is_not_finished(tmp_path):
    assert not benchmark.finished(str(tmp_path))


@pytest.mark.parametrize('checkpoint, force, trained, resume', [
    (None, False, True, False),            # new run: train from the start
    ('iter_1000.pth', False, True, True),  # cut off: resume
    ('iter_3000.pth', False, False, None),  # finished: reuse
    ('iter_1000.pth', True, True, False),  # --force: retrain from the start
])
def test_train_or_reuse_resumes_only_a_run_that_was_cut_off(
        tmp_path, monkeypatch, checkpoint, force, trained, resume):
    work_dir = tmp_path / 'cfg_seed0'
    if checkpoint:
        fake_run(work_dir, dict(max_iters=3000), checkpoint)
    calls = []
    monkeypatch.setattr(benchmark, 'run_one',
                        lambda *a, resume=False, **k: calls.append(resume))
    monkeypatch.setattr(benchmark, 'read_scalars', lambda d: [])
    benchmark.train_or_reuse('configs/cfg.py', 0, str(tmp_path), force=force)
    assert calls == ([resume] if trained else [])


def _scalars(work_dir, session, rows):
    import json
    path = work_dir / session / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))


TRAIN = dict(loss=1.0, time=0.1, step=10)
VAL = {'coco/bbox_mAP': 0.5, 'step': 0}


def test_a_run_cut_off_before_its_final_validation_runs_its_last_interval(
        tmp_path, monkeypatch):
    """Final checkpoint written, validation after it not: the run goes on
    from the checkpoint before (its metric would be missing otherwise)."""
    work_dir = tmp_path / 'cfg_seed0'
    fake_run(work_dir, dict(max_iters=3000), 'iter_3000.pth')
    for name in ('iter_1000.pth', 'iter_2000.pth', 'iter_3000.pth'):
        (work_dir / name).write_text('')
    _scalars(work_dir, '20260101_000000', [TRAIN, VAL])  # validated at 1000
    _scalars(work_dir, '20260101_010000', [TRAIN, TRAIN])  # cut off
    assert not benchmark.validated_at_end(str(work_dir))
    calls = []
    monkeypatch.setattr(benchmark, 'run_one',
                        lambda *a, resume=False, **k: calls.append(resume))
    benchmark.train_or_reuse('configs/cfg.py', 0, str(tmp_path))
    assert calls == [str(work_dir / 'iter_2000.pth')]
    _scalars(work_dir, '20260101_020000', [TRAIN, VAL])  # then: finished
    assert benchmark.validated_at_end(str(work_dir))


def test_run_one_passes_resume_before_the_cfg_options(tmp_path, monkeypatch):
    commands = []

    class Child:
        pid = -1

        def __init__(self, cmd, **kwargs):
            commands.append(cmd)

    monkeypatch.setattr(benchmark.subprocess, 'Popen', Child)
    monkeypatch.setattr(benchmark.os, 'wait4', lambda pid, opt: (pid, 1, None))
    with pytest.raises(RuntimeError, match='failed'):
        benchmark.run_one('a.py', 3, str(tmp_path), ['x=1'], resume=True)
    cmd = commands[0]
    assert cmd.index('--resume') < cmd.index('--cfg-options')
    assert cmd[cmd.index('--cfg-options') + 1:] == ['randomness.seed=3', 'x=1']


def test_write_out_names_the_environment_under_the_table(tmp_path, capsys):
    """A table file says which CPU and library versions made it: a newer
    OpenCV alone changes the semi-supervised numbers."""
    import cv2
    import numpy
    out = tmp_path / 'table.md'
    benchmark.write_out(str(out), '| a | b |')
    text = out.read_text()
    env = text.split('\n\n')[1]
    assert text.startswith('| a | b |\n\nenvironment: ')
    assert f'opencv-python {cv2.__version__}' in env
    assert f'numpy {numpy.__version__}' in env
    assert env in capsys.readouterr().out
