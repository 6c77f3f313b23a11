"""The semi-supervised detection table: supervised at the label budget |
control | Soft Teacher (mmkd and mmdet 3.3's own) | supervised on all labels
(and the oracle: the semi-supervised schedule with every label), several
seeds, one script.

    python tools/analysis_tools/benchmark_ssod.py [--seeds 0 1] [--out \\
        work_dirs/ssod.md]
    python tools/analysis_tools/benchmark_ssod.py --runs sup full mmkd \\
        --sup-config configs/supervised/demo/mask_rcnn_r18_demo_coco_10p.py \
        --full-config configs/supervised/demo/mask_rcnn_r18_demo_coco_full.py \
        --mmkd-config \
        configs/soft_teacher/demo/soft_teacher_mask_rcnn_r18_demo_coco_10p.py \
        --metric coco/bbox_mAP coco/segm_mAP
    python tools/analysis_tools/benchmark_ssod.py --cost [--cost-iters 120]

Per seed: the supervised 10 % and 100 % demo models are trained (or reused
from ``--work-root``; finished semi-supervised runs too, unless
``--force``) with tools/analysis_tools/benchmark_baselines.py's runner; each
semi-supervised config then starts from that seed's supervised 10 %
checkpoint and trains its schedule with the same seed.  The control run
is mmkd's Soft Teacher config with ``model.unsup_weight=0`` (same schedule,
EMA teacher, labelled data only), so a gain is the unlabelled data's; the
oracle (``--runs oracle``) trains the same schedule from the same
checkpoint with every image labelled, the upper bound at equal iterations.
Finished runs in ``--work-root`` are reused and runs cut off midway
resumed (exactly), unless ``--force``.
Reported: the final metrics of teacher and student, median s/iter (first 10 %
skipped), and the means over seeds with mmkd / mmdet ratios.  ``--cost``
times the steps instead, alone and one after another (the accuracy runs may
share the cores): ``--cost-iters`` iterations of the supervised, mmkd and
mmdet configs from seed 0's checkpoint, no validation; median s/iter and
peak memory.
"""
import argparse
import os.path as osp
import statistics

from benchmark_utils import (
    add_run_args,
    config_name,
    last_checkpoint,
    ratio_table,
    run_one,
    timing_options,
    train_or_reuse,
    write_out,
)
from mmengine.config import Config

SUP = 'configs/supervised/demo/'
ST = 'configs/soft_teacher/demo/'
# experiment-only configs (the mmdet comparison, the oracle) live here
EXP = 'tools/analysis_tools/configs/'


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_args(p, seeds=(0, 1), cost_iters=120)
    p.add_argument('--sup-config',
                   default=SUP + 'faster_rcnn_r18_demo_coco_10p.py')
    p.add_argument('--full-config',
                   default=SUP + 'faster_rcnn_r18_demo_coco_full.py')
    p.add_argument(
        '--mmkd-config',
        default=ST + 'soft_teacher_faster_rcnn_r18_demo_coco_10p.py')
    p.add_argument('--mmdet-config', default=EXP +
                   'mmdet_soft_teacher_faster_rcnn_r18_demo_coco_10p.py')
    p.add_argument('--oracle-config', default=EXP +
                   'oracle_faster_rcnn_r18_demo_coco_10p_3k.py',
                   help='supervised on all labels from the supervised 10 %% '
                   'checkpoint, the semi-supervised schedule (run "oracle")')
    p.add_argument('--runs', nargs='+',
                   default=['sup', 'full', 'mmkd', 'mmdet', 'control'],
                   choices=['sup', 'full', 'mmkd', 'mmdet', 'control',
                            'oracle'],
                   help='which runs (default all but oracle)')
    p.add_argument('--metric', nargs='+', default=['coco/bbox_mAP'],
                   help='one table per metric (Mask R-CNN: coco/bbox_mAP '
                   'coco/segm_mAP)')
    return p.parse_args()


def init_key(config):
    """Where the semi-supervised model takes its detector's init_cfg."""
    model = Config.fromfile(config).model
    return 'model.detector' if 'detector' in model else 'model.student'


def max_iters(config):
    return Config.fromfile(config).train_cfg.max_iters


def labels(args):
    """Row names from the configs: their names and schedules."""
    sup, semi = max_iters(args.sup_config), max_iters(args.mmkd_config)
    return dict(
        sup=f'supervised {config_name(args.sup_config)} ({sup} it)',
        control=f'control: + {semi} it, w_unsup = 0',
        mmkd=f'mmkd {config_name(args.mmkd_config)} (+ {semi} it)',
        mmdet=f'mmdet 3.3 {config_name(args.mmdet_config)} '
        f'(+ {max_iters(args.mmdet_config)} it)',
        full=f'supervised {config_name(args.full_config)} '
        f'({max_iters(args.full_config)} it)',
        oracle=f'oracle: + {max_iters(args.oracle_config)} it, all labels')


def cost(args):
    n = args.cost_iters
    sup_dir, _ = train_or_reuse(args.sup_config, 0, args.work_root,
                                threads=args.threads)
    init = last_checkpoint(sup_dir)
    opts = timing_options(n)
    runs = dict(sup=(args.sup_config, [f'load_from={init}']),
                mmkd=(args.mmkd_config, []), mmdet=(args.mmdet_config, []))
    results = {}
    for run, (config, extra) in runs.items():
        if run != 'sup':
            extra = [f'{init_key(config)}.init_cfg.checkpoint={init}']
        results[run] = run_one(config, 0, osp.join(args.work_root, 'cost',
                                                   f'ssod_{run}'),
                               opts + extra, args.threads)
    names = labels(args)
    text = ratio_table(results, 'mmdet', lambda run: names[run].split(' (')[0],
                       f'training step ({n} iters, alone)')
    print(text, flush=True)
    return text


def accuracy(args):
    rows = {}  # run -> seed -> result
    for seed in args.seeds:
        sup_dir, rows.setdefault('sup', {})[seed] = train_or_reuse(
            args.sup_config, seed, args.work_root, threads=args.threads)
        init = last_checkpoint(sup_dir)
        if 'full' in args.runs:
            rows.setdefault('full', {})[seed] = train_or_reuse(
                args.full_config, seed, args.work_root,
                threads=args.threads)[1]
        semi = dict(mmkd=(args.mmkd_config, [], ''),
                    mmdet=(args.mmdet_config, [], ''),
                    control=(args.mmkd_config, ['model.unsup_weight=0'],
                             '_unsup0'),
                    oracle=(args.oracle_config, [], ''))
        for run, (config, opts, suffix) in semi.items():
            if run not in args.runs:
                continue
            init_opt = f'load_from={init}' if run == 'oracle' else \
                f'{init_key(config)}.init_cfg.checkpoint={init}'
            opts = [init_opt, *opts]
            rows.setdefault(run, {})[seed] = train_or_reuse(
                config, seed, args.work_root, opts, suffix, args.force,
                args.threads)[1]
            report(rows, args.metric[0], labels(args))
    return '\n\n'.join(report(rows, metric, labels(args))
                       for metric in args.metric)


def main():
    args = parse_args()
    write_out(args.out, cost(args) if args.cost else accuracy(args))


def _metric(r, prefix, metric):
    m = r['metrics']
    return m.get(f'{prefix}/{metric}', m.get(metric))


def report(rows, metric, names):
    lines = [f'{metric}:', '',
             '| run | seeds | teacher | student | per seed '
             '(teacher / student) | s/iter (median) |',
             '|---|---|---|---|---|---|']
    means = {}
    for run in ['sup', 'control', 'mmkd', 'mmdet', 'full', 'oracle']:
        if run not in rows:
            continue
        res = rows[run]
        t = [_metric(r, 'teacher', metric) for r in res.values()]
        s = [_metric(r, 'student', metric) for r in res.values()]
        it = [r['s_iter'] for r in res.values()]
        means[run] = (statistics.mean(t), statistics.mean(s),
                      statistics.median(it))
        per_seed = ', '.join(f'{seed}: {a:.3f} / {b:.3f}'
                             for seed, a, b in zip(res, t, s))
        lines.append(f'| {names[run]} | {len(res)} | {means[run][0]:.3f} | '
                     f'{means[run][1]:.3f} | {per_seed} | '
                     f'{means[run][2]:.3f} |')
    lines += gains(rows, metric)
    if 'mmkd' in means and 'mmdet' in means:
        a, b = means['mmkd'], means['mmdet']
        lines.append(f'\nmmkd / mmdet: teacher {a[0] / b[0]:.2f}×, '
                     f'student {a[1] / b[1]:.2f}×, s/iter '
                     f'{a[2] / b[2]:.2f}×')
    if 'mmkd' in means and 'sup' in means:
        lines.append(f'mmkd semi-supervised step / supervised step (as '
                     f'trained; --cost times them alone): '
                     f'{means["mmkd"][2] / means["sup"][2]:.2f}×')
    table = '\n'.join(lines)
    print(table, flush=True)
    return table


def gains(rows, metric):
    """Per seed (teacher): mmkd's gain over the control, and the share of
    the gap from supervised 10 % (``sup``) to each upper row (``full``,
    ``oracle``) that it closes, ``(mmkd - sup) / (upper - sup)``."""
    if 'mmkd' not in rows:
        return []
    seeds = list(rows['mmkd'])

    def teacher(run, seed):
        return _metric(rows[run][seed], 'teacher', metric)

    out = ['']
    if 'control' in rows:
        diff = [teacher('mmkd', s) - teacher('control', s) for s in seeds
                if s in rows['control']]
        out.append('mmkd teacher - control teacher, per seed: ' + ', '.join(
            f'{d:+.3f}' for d in diff) +
            (f' (mean {statistics.mean(diff):+.3f})' if diff else ''))
    for upper in ('full', 'oracle'):
        if upper not in rows or 'sup' not in rows:
            continue
        share = [(teacher('mmkd', s) - teacher('sup', s)) /
                 (teacher(upper, s) - teacher('sup', s)) for s in seeds
                 if s in rows[upper] and s in rows['sup']]
        out.append(f'gap sup -> {upper} closed by mmkd (teacher), per seed: '
                   + ', '.join(f'{100 * g:.0f} %' for g in share) +
                   (f' (mean {100 * statistics.mean(share):.0f} %)'
                    if share else ''))
    return out


if __name__ == '__main__':
    main()
