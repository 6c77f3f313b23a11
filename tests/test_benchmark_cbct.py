"""tools/analysis_tools/benchmark_cbct.py: each run's options point its config
at the
budget's lists, and the table reports the right members per seed."""
import os.path as osp
import sys

from conftest import ROOT, load_config

sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))
import benchmark_cbct as bench  # noqa: E402


def _merged(run, budget):
    cfg = load_config(bench.CONFIGS[run])
    opts = dict(o.split('=', 1) for o in bench.options(run, budget))
    cfg.merge_from_dict(opts)
    return cfg.train_dataloader


def test_each_run_reads_its_budget_lists():
    assert _merged('sup', 2).dataset.ann_file == 'labeled_2.txt'
    assert _merged('full', 2).dataset.ann_file == 'train.txt'
    for run in ('mt', 'rail'):
        data = _merged(run, 4)
        assert data.dataset.labeled.ann_file == 'labeled_4.txt'
        assert data.dataset.unlabeled.ann_file == 'unlabeled_4.txt'
        # the supervised row sees at least as many labelled patches a step
        assert data.sampler.ratio[0] <= _merged('sup', 4).batch_size
    # the control is the mean teacher without its unlabelled loss
    control = load_config(bench.CONFIGS['control'])
    control.merge_from_dict(dict(o.split('=', 1)
                                 for o in bench.options('control', 4)))
    assert float(control.model.unsup_weight) == 0.0
    assert control.train_dataloader == _merged('mt', 4)


def test_table_reports_each_member_per_seed():
    def result(prefix, dice):
        keys = {f'{prefix}cbct/{m}': 1.0 for m in bench.METRICS}
        keys[f'{prefix}cbct/Dice'] = dice
        return dict(metrics=keys, s_iter=0.5)
    rows = {('mt', 2): {0: result('teacher/', 60.0),
                        1: result('teacher/', 70.0)},
            ('rail', 2): {0: result('students/', 80.0)}}
    for seed, r in rows[('mt', 2)].items():
        r['metrics'].update(result('student/', 50.0 + seed)['metrics'])
    text = bench.report(rows, 2)
    lines = {line.split(' | ')[0]: line for line in text.splitlines()}
    assert '| 65.00 |' in lines['| 3D mean teacher (teacher)']
    assert '0: 60.00, 1: 70.00' in lines['| 3D mean teacher (teacher)']
    assert '0: 50.00, 1: 51.00' in lines['| 3D mean teacher (student)']
    assert '0: 80.00' in lines['| RAIL (students)']
