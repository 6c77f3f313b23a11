"""The semi-supervised detection table: supervised 10 % | Soft Teacher 10 %
(mmkd and mmdet 3.3's own) | supervised 100 %, several seeds, one script.

    python tools/benchmark_ssod.py [--seeds 0 1] [--out work_dirs/ssod.md]
    python tools/benchmark_ssod.py --runs sup full mmkd \
        --sup-config configs/demo/mask_rcnn_r18_demo_coco_10p.py \
        --full-config configs/demo/mask_rcnn_r18_demo_coco_full.py \
        --mmkd-config \
        configs/demo/soft_teacher_mask_rcnn_r18_demo_coco_10p.py \
        --metric coco/bbox_mAP coco/segm_mAP
    python tools/benchmark_ssod.py --cost [--cost-iters 120]

Per seed: the supervised 10 % and 100 % demo models are trained (or reused
from ``--work-root``; finished semi-supervised runs too, unless
``--force``) with tools/benchmark_baselines.py's runner; each
semi-supervised config then starts from that seed's supervised 10 %
checkpoint and trains its schedule with the same seed.  The control run
is mmkd's Soft Teacher config with ``model.unsup_weight=0`` (same schedule,
EMA teacher, labelled data only), so a gain is the unlabelled data's.
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
import sys

from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from benchmark_baselines import (last_checkpoint, run_one,  # noqa
                                 timing_options, train_or_reuse)

DEMO = 'configs/demo/'


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    p.add_argument('--sup-config',
                   default=DEMO + 'faster_rcnn_r18_demo_coco_10p.py')
    p.add_argument('--full-config',
                   default=DEMO + 'faster_rcnn_r18_demo_coco_full.py')
    p.add_argument(
        '--mmkd-config',
        default=DEMO + 'soft_teacher_faster_rcnn_r18_demo_coco_10p.py')
    p.add_argument('--mmdet-config', default=DEMO +
                   'mmdet_soft_teacher_faster_rcnn_r18_demo_coco_10p.py')
    p.add_argument('--runs', nargs='+',
                   default=['sup', 'full', 'mmkd', 'mmdet', 'control'],
                   help='which runs (default all)')
    p.add_argument('--metric', nargs='+', default=['coco/bbox_mAP'],
                   help='one table per metric (Mask R-CNN: coco/bbox_mAP '
                   'coco/segm_mAP)')
    p.add_argument('--work-root', default='work_dirs/benchmark')
    p.add_argument('--out', default=None, help='append the tables here')
    p.add_argument('--cost', action='store_true',
                   help='time the training steps instead (see above)')
    p.add_argument('--cost-iters', type=int, default=120)
    p.add_argument('--force', action='store_true',
                   help='retrain semi-supervised runs found in --work-root')
    return p.parse_args()


def init_key(config):
    """Where the semi-supervised model takes its detector's init_cfg."""
    model = Config.fromfile(config).model
    return 'model.detector' if 'detector' in model else 'model.student'


def cost(args):
    n = args.cost_iters
    sup_dir, _ = train_or_reuse(args.sup_config, 0, args.work_root)
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
                               opts + extra)
    base = results['mmdet']
    lines = [f'| training step ({n} iters, alone) | s/iter (median) | '
             '× mmdet | peak memory (RSS) | × mmdet |',
             '|---|---|---|---|---|']
    for run, r in results.items():
        lines.append(f'| {LABELS[run].split(" (")[0]} | {r["s_iter"]:.3f} | '
                     f'{r["s_iter"] / base["s_iter"]:.2f} | '
                     f'{r["peak_rss_mb"]:.0f} MB | '
                     f'{r["peak_rss_mb"] / base["peak_rss_mb"]:.2f} |')
    text = '\n'.join(lines)
    print(text, flush=True)
    return text


def accuracy(args):
    rows = {}  # run -> seed -> result
    for seed in args.seeds:
        sup_dir, rows.setdefault('sup', {})[seed] = train_or_reuse(
            args.sup_config, seed, args.work_root)
        init = last_checkpoint(sup_dir)
        if 'full' in args.runs:
            rows.setdefault('full', {})[seed] = train_or_reuse(
                args.full_config, seed, args.work_root)[1]
        semi = dict(mmkd=(args.mmkd_config, [], ''),
                    mmdet=(args.mmdet_config, [], ''),
                    control=(args.mmkd_config, ['model.unsup_weight=0'],
                             '_unsup0'))
        for run, (config, opts, suffix) in semi.items():
            if run not in args.runs:
                continue
            opts = [f'{init_key(config)}.init_cfg.checkpoint={init}', *opts]
            rows.setdefault(run, {})[seed] = train_or_reuse(
                config, seed, args.work_root, opts, suffix, args.force)[1]
            report(rows, args.metric[0])
    return '\n\n'.join(report(rows, metric) for metric in args.metric)


def main():
    args = parse_args()
    table = cost(args) if args.cost else accuracy(args)
    if args.out:
        with open(args.out, 'a') as f:
            f.write(table + '\n\n')


LABELS = dict(sup='supervised 10 % (1000 it)',
              control='supervised 10 % + 1000 it, w_unsup=0 (EMA teacher)',
              mmkd='mmkd SoftTeacher 10 % (+1000 it)',
              mmdet='mmdet 3.3 SoftTeacher 10 % (+1000 it)',
              full='supervised 100 % (1000 it)')


def _metric(r, prefix, metric):
    m = r['metrics']
    return m.get(f'{prefix}/{metric}', m.get(metric))


def report(rows, metric):
    lines = [f'{metric}:', '',
             '| run | seeds | teacher | student | per seed '
             '(teacher / student) | s/iter (median) |',
             '|---|---|---|---|---|---|']
    means = {}
    for run in ['sup', 'control', 'mmkd', 'mmdet', 'full']:
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
        lines.append(f'| {LABELS[run]} | {len(res)} | {means[run][0]:.3f} | '
                     f'{means[run][1]:.3f} | {per_seed} | '
                     f'{means[run][2]:.3f} |')
    if 'mmkd' in means and 'mmdet' in means:
        a, b = means['mmkd'], means['mmdet']
        lines.append(f'\nmmkd / mmdet: teacher {a[0] / b[0]:.2f}×, '
                     f'student {a[1] / b[1]:.2f}×, s/iter '
                     f'{a[2] / b[2]:.2f}×')
    if 'mmkd' in means and 'sup' in means:
        lines.append(f'mmkd SoftTeacher step / supervised step (as trained; '
                     f'--cost times them alone; 4 images '
                     f'each): {means["mmkd"][2] / means["sup"][2]:.2f}×')
    table = '\n'.join(lines)
    print(table, flush=True)
    return table


if __name__ == '__main__':
    main()
