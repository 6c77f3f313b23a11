"""The semi-supervised CBCT table: supervised at each label budget | control
| 3D mean teacher | RAIL | supervised on all training volumes, several seeds,
with Dice, Jaccard, HD95 and ASD in voxels and in mm; and RAIL's cost.

    python tools/analysis_tools/benchmark_cbct.py [--budgets 1 2] \\
        [--seeds 0 1] [--runs sup control mt rail full] \\
        [--out work_dirs/cbct.md]
    python tools/analysis_tools/benchmark_cbct.py --cost [--cost-iters 60]

Every run trains from scratch for the same schedule (the demo configs' 600
iterations) on ``data/cbct_demo`` with the budget lists the generator writes
(``labeled_<n>.txt`` / ``unlabeled_<n>.txt``; ``train.txt`` for the
all-volumes row). The supervised rows see 2 labelled patches a step, the
semi-supervised ones 1 labelled + 1 unlabelled (the papers' batch): the
supervised baseline gets more labelled patches, not fewer. The control is the
mean teacher's run without its unlabelled loss (``model.unsup_weight=0``):
the same batches, schedule and forward. Finished runs in
``--work-root`` are reused and runs cut off midway resumed, unless
``--force``. Reported per row: the final
validation's metrics (the mean teacher's teacher and student, RAIL's
four-student ensemble), mean and per seed. ``--cost`` times
``--cost-iters`` iterations of the supervised V-Net, the mean teacher and
RAIL, each alone, one after another: median s/iter and peak memory, relative
to the mean teacher; RAIL's group turns are cut to 5 iterations so that all
but its first 10 steps are full ones (all four students forward).
"""
import argparse
import os.path as osp
import statistics

from benchmark_utils import (
    add_run_args,
    ratio_table,
    run_one,
    timing_options,
    train_or_reuse,
    write_out,
)

CONFIGS = dict(sup='configs/supervised/demo/vnet_demo_cbct.py',
               full='configs/supervised/demo/vnet_demo_cbct.py',
               mt='configs/mean_teacher/demo/mean_teacher_vnet_demo_cbct.py',
               control='configs/mean_teacher/demo/'
               'mean_teacher_vnet_demo_cbct.py',
               rail='configs/rail/demo/rail_vnet_demo_cbct.py')
# the member whose metrics a row reports, by run ('' = the model itself)
MEMBERS = dict(sup=[''], full=[''], mt=['teacher', 'student'],
               control=['teacher', 'student'], rail=['students'])
NAMES = dict(sup='supervised', mt='3D mean teacher', rail='RAIL',
             control='control: 3D mean teacher, w_unsup = 0',
             full='supervised, all volumes')
METRICS = ['Dice', 'Jaccard', 'HD95', 'ASD', 'HD95_mm', 'ASD_mm', 'empty']


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_args(p, seeds=(0, 1), cost_iters=60)
    p.add_argument('--budgets', type=int, nargs='+', default=[1, 2],
                   help='labelled volumes (the generator writes their lists)')
    p.add_argument('--runs', nargs='+', choices=sorted(CONFIGS),
                   default=['sup', 'control', 'mt', 'rail', 'full'])
    return p.parse_args()


def options(run, budget):
    """``--cfg-options`` of one run at one label budget."""
    if run in ('sup', 'full'):
        ann = 'train.txt' if run == 'full' else f'labeled_{budget}.txt'
        return [f'train_dataloader.dataset.ann_file={ann}']
    data = 'train_dataloader.dataset'
    control = ['model.unsup_weight=0.0'] if run == 'control' else []
    return [f'{data}.labeled.ann_file=labeled_{budget}.txt',
            f'{data}.unlabeled.ann_file=unlabeled_{budget}.txt'] + control


def metric(result, member, name):
    key = f'{member}/cbct/{name}' if member else f'cbct/{name}'
    return result['metrics'].get(key, float('nan'))


def report(rows, budget):
    head = ' | '.join(METRICS)
    lines = [f'{budget} labelled volumes' if budget else 'all volumes', '',
             f'| run | seeds | {head} | Dice per seed | s/iter |',
             '|---|---|' + '---|' * len(METRICS) + '---|---|']
    for (run, b), res in rows.items():
        if b != budget:
            continue
        for member in MEMBERS[run]:
            name = NAMES[run] + (f' ({member})' if member else '')
            vals = [statistics.mean(metric(res[s], member, m) for s in res)
                    for m in METRICS]
            cells = ' | '.join(f'{v:.2f}' for v in vals)
            per_seed = ', '.join(f'{s}: {metric(res[s], member, "Dice"):.2f}'
                                 for s in res)
            it = statistics.median(r['s_iter'] for r in res.values())
            lines.append(f'| {name} | {len(res)} | {cells} | {per_seed} | '
                         f'{it:.3f} |')
    table = '\n'.join(lines)
    print(table, flush=True)
    return table


def accuracy(args):
    rows = {}  # (run, budget) -> seed -> result
    for seed in args.seeds:
        for run in args.runs:
            for budget in ([0] if run == 'full' else args.budgets):
                suffix = f'_{run}_l{budget}' if budget else f'_{run}_all'
                rows.setdefault((run, budget), {})[seed] = train_or_reuse(
                    CONFIGS[run], seed, args.work_root,
                    options(run, budget), suffix, args.force,
                    args.threads)[1]
    budgets = list(args.budgets) + ([0] if 'full' in args.runs else [])
    return '\n\n'.join(report(rows, b) for b in budgets)


def cost(args):
    n = args.cost_iters
    budget = args.budgets[-1]
    results = {}
    for run in ('sup', 'mt', 'rail'):
        # RAIL's first turn of each group trains without the other group's
        # forwards: short turns so that most timed steps are full ones
        turns = ['model.group_iters=5'] if run == 'rail' else []
        results[run] = run_one(
            CONFIGS[run], 0, osp.join(args.work_root, 'cost', f'cbct_{run}'),
            timing_options(n) + options(run, budget) + turns,
            args.threads)
    text = ratio_table(results, 'mt', lambda run: NAMES[run],
                       f'training step ({n} iters, alone)')
    print(text, flush=True)
    return text


def main():
    args = parse_args()
    write_out(args.out, cost(args) if args.cost else accuracy(args))


if __name__ == '__main__':
    main()
