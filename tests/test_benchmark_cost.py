"""tools/analysis_tools/benchmark_cost.py: which members it initialises, and a
tiny run of
two configs with the ratio table."""
import os.path as osp
import sys

import pytest

from conftest import ROOT, run_tool

sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))
from benchmark_cost import init_options, over_rounds, rounds_table  # noqa: E402,E501

SUP = osp.join(ROOT, 'configs', 'supervised', 'demo')
MT = osp.join(ROOT, 'configs', 'mean_teacher', 'demo')
DMT = osp.join(ROOT, 'configs', 'dual_mean_teacher', 'demo')


def test_every_initialised_member_gets_the_checkpoint_or_none():
    dual = osp.join(DMT, 'dual_mean_teacher_deeplabv3_mbv2_demo_cityscapes_'
                    '1-8.py')
    assert init_options(dual, ['x.pth']) == [
        'model.student_a.init_cfg.checkpoint=x.pth',
        'model.student_b.init_cfg.checkpoint=x.pth']
    # two checkpoints: the second pair from the second, as in training
    assert init_options(dual, ['x.pth', 'y.pth']) == [
        'model.student_a.init_cfg.checkpoint=x.pth',
        'model.student_b.init_cfg.checkpoint=y.pth']
    single = osp.join(MT, 'mean_teacher_deeplabv3_mbv2_demo_cityscapes_'
                      '1-8.py')
    assert init_options(single, None) == ['model.student.init_cfg=None']
    sup = osp.join(SUP, 'deeplabv3_mbv2_demo_cityscapes_1-8.py')
    assert init_options(sup, ['x.pth']) == []


def test_rounds_give_each_configs_median_and_every_rounds_ratio():
    def run(s_iter, rss):
        return dict(s_iter=s_iter, cuda_mem_mb=0, peak_rss_mb=rss)
    # the machine slows down in round 2: both configs' times move together
    rounds = [dict(sup=run(0.30, 500), semi=run(0.42, 600)),
              dict(sup=run(0.40, 510), semi=run(0.52, 590)),
              dict(sup=run(0.32, 505), semi=run(0.48, 620))]
    summary = over_rounds(rounds)
    assert summary['sup']['s_iter'] == 0.32
    assert summary['semi']['s_iter'] == 0.48
    assert summary['semi']['peak_rss_mb'] == 620
    lines = rounds_table(rounds, 'sup').split('\n')
    assert lines[0].count('round ') == 3
    # ratios 1.40, 1.30, 1.50: their median 1.40 is not that of the medians
    assert lines[3] == ('| semi | 0.420 (1.40) | 0.520 (1.30) | 0.480 (1.50) '
                        '| 1.40 |')
    assert lines[2].endswith('| 1.00 |')


@pytest.mark.slow
def test_cost_table_of_two_configs(tmp_path, demo_root):
    root = osp.join(demo_root, 'cityscapes_demo') + '/'
    at = f"data_root='{root}'"
    evaluation = [f"{key} = dict(dataset=dict({at}))"
                  for key in ('val_dataloader', 'test_dataloader')]
    lines = {
        'sup.py': [f"_base_ = '{SUP}/deeplabv3_mbv2_demo_cityscapes_1-8.py'",
                   f"train_dataloader = dict(dataset=dict({at}))",
                   *evaluation],
        'mt.py': [f"_base_ = '{MT}/mean_teacher_deeplabv3_mbv2_demo_"
                  "cityscapes_1-8.py'",
                  "train_dataloader = dict(dataset=dict(labeled=dict("
                  f"{at}), unlabeled=dict({at})))", *evaluation]}
    paths = []
    for name, text in lines.items():
        path = tmp_path / name
        path.write_text('\n'.join(text) + '\n')
        paths.append(str(path))
    out = str(tmp_path / 'cost.md')
    r = run_tool('tools/analysis_tools/benchmark_'
                 'cost.py', *paths, '--iters', '4',
                 '--rounds', '2', '--work-root', str(tmp_path / 'wd'),
                 '--out', out)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    table, per_round = open(out).read().split('\n\n')[:2]
    assert '| sup | ' in table and '| mt | ' in table
    assert '| sup | ' in table.split('\n')[2] and '| 1.00 |' in table
    assert 'median of 2 rounds' in table
    assert per_round.split('\n')[2].startswith('| sup | ')
    assert per_round.split('\n')[3].startswith('| mt | ')
    # one work dir per config and round
    assert (tmp_path / 'wd' / 'mt' / 'round2').is_dir()
