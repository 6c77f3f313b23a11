"""The cost of training steps: median s/iter and peak memory of each config
relative to the first (e.g. supervised vs. its semi-supervised variants at
equal images per step), each run alone, one after another, with pinned
threads.

    D=configs/demo; python tools/analysis_tools/benchmark_cost.py \\
        $D/deeplabv3_mbv2_demo_cityscapes_1-8.py \\
        $D/mean_teacher_deeplabv3_mbv2_demo_cityscapes_1-8.py \\
        $D/mean_teacher_deeplabv3_mbv2_demo_cityscapes_1-8_dynamic.py \\
        $D/dual_mean_teacher_deeplabv3_mbv2_demo_cityscapes_1-8.py \\
        [--iters 80] [--init CKPT [CKPT_B]] [--rounds 3] \\
        [--out work_dirs/cost.md]

Every member that a config initialises from a checkpoint (``model.student``,
``model.student_a`` / ``_b``, ``model.detector``) starts from ``--init``
(e.g. the supervised model), or from random weights without it; a second
checkpoint starts ``student_b`` of a two-pair method from it (as in its
runs: two pairs from one checkpoint have teachers that agree everywhere, so
Dual Mean-Teacher's agreement filter rejects nothing and the step costs
more than in training).  The first 10 % of the iterations are not timed; no
validation, no checkpoints.

``--rounds R`` runs the configs R times in turn (A B C, A B C, ...) and
reports each config's median over the rounds, with a second table of
every round's times and ratios: on a machine whose speed drifts over
minutes (measured: the same supervised step at 0.33 and 0.35 s/iter in two
runs of this tool on one machine, the ratios of one config 1.41 and 1.27)
one round's ratio moves by up to a tenth, and the rounds show by how much.
"""
import argparse
import os.path as osp
import statistics

from benchmark_utils import (
    DEFAULT_THREADS,
    config_name,
    ratio_table,
    run_one,
    timing_options,
    write_out,
)
from mmengine.config import Config

INIT_KEYS = ('student', 'student_a', 'student_b', 'detector')


def init_options(config, checkpoints):
    """``--cfg-options`` that start the members from ``checkpoints`` (none:
    random weights; one: every member; two: ``student_b`` from the
    second)."""
    model = Config.fromfile(config).model
    opts = []
    for key in INIT_KEYS:
        if key in model and model[key].get('init_cfg'):
            ckpt = None
            if checkpoints:
                ckpt = checkpoints[-1] if key == 'student_b' \
                    else checkpoints[0]
            opts.append(f'model.{key}.init_cfg.checkpoint={ckpt}'
                        if ckpt else f'model.{key}.init_cfg=None')
    return opts


def over_rounds(rounds):
    """One summary per config from its runs in every round: the median of
    their s/iter, the largest peak memory."""
    out = {}
    for name in rounds[0]:
        runs = [r[name] for r in rounds]
        out[name] = dict(
            s_iter=statistics.median(r['s_iter'] for r in runs),
            cuda_mem_mb=max(r['cuda_mem_mb'] for r in runs),
            peak_rss_mb=max(r['peak_rss_mb'] for r in runs))
    return out


def rounds_table(rounds, base):
    """A markdown table: each config's s/iter and ratio to ``base`` in every
    round, and the median of the ratios."""
    n = len(rounds)
    lines = ['| config | ' + ' | '.join(
        f'round {i + 1}: s/iter (× {base})' for i in range(n)) +
        ' | median of the ratios |', '|---|' + '---|' * (n + 1)]
    for name in rounds[0]:
        ratios = [r[name]['s_iter'] / r[base]['s_iter'] for r in rounds]
        lines.append(f'| {name} | ' + ' | '.join(
            f'{r[name]["s_iter"]:.3f} ({x:.2f})'
            for r, x in zip(rounds, ratios)) +
            f' | {statistics.median(ratios):.2f} |')
    return '\n'.join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('configs', nargs='+')
    p.add_argument('--iters', type=int, default=80)
    p.add_argument('--init', nargs='+', default=None, metavar='CKPT',
                   help='initial checkpoint; a second one for student_b')
    p.add_argument('--work-root', default='work_dirs/benchmark_cost')
    p.add_argument('--threads', type=int, default=DEFAULT_THREADS)
    p.add_argument('--rounds', type=int, default=1,
                   help='run the configs this many times in turn')
    p.add_argument('--out', default=None)
    args = p.parse_args()
    if args.init and len(args.init) > 2:
        p.error('--init takes one checkpoint, or two (the second for '
                'student_b)')
    rounds = []
    for i in range(args.rounds):
        results = {}
        for config in args.configs:
            name = config_name(config)
            work_dir = osp.join(args.work_root, name)
            if args.rounds > 1:
                work_dir = osp.join(work_dir, f'round{i + 1}')
            results[name] = run_one(
                config, 0, work_dir,
                timing_options(args.iters) + init_options(config, args.init),
                args.threads)
        rounds.append(results)
    base = config_name(args.configs[0])
    text = ratio_table(over_rounds(rounds), base, str,
                       f'training step ({args.iters} iters, alone, '
                       f'{args.threads} threads' +
                       (f', median of {args.rounds} rounds)'
                        if args.rounds > 1 else ')'))
    if args.rounds > 1:
        text += '\n\n' + rounds_table(rounds, base)
    print(text, flush=True)
    write_out(args.out, text)


if __name__ == '__main__':
    main()
