"""The cost of training steps: median s/iter and peak memory of each config
relative to the first (e.g. supervised vs. its semi-supervised variants at
equal images per step), each run alone, one after another, with pinned
threads.

    D=configs/demo; python tools/benchmark_cost.py \\
        $D/deeplabv3_mbv2_demo_cityscapes_1-8.py \\
        $D/mean_teacher_deeplabv3_mbv2_demo_cityscapes_1-8.py \\
        $D/mean_teacher_deeplabv3_mbv2_demo_cityscapes_1-8_dynamic.py \\
        $D/dual_mean_teacher_deeplabv3_mbv2_demo_cityscapes_1-8.py \\
        [--iters 80] [--init CKPT [CKPT_B]] [--out work_dirs/cost.md]

Every member that a config initialises from a checkpoint (``model.student``,
``model.student_a`` / ``_b``, ``model.detector``) starts from ``--init``
(e.g. the supervised model), or from random weights without it; a second
checkpoint starts ``student_b`` of a two-pair method from it (as in its
runs: two pairs from one checkpoint have teachers that agree everywhere, so
Dual Mean-Teacher's agreement filter rejects nothing and the step costs
more than in training).  The first 10 % of the iterations are not timed; no
validation, no checkpoints.
"""
import argparse
import os.path as osp

from mmengine.config import Config

from mmkd.utils.benchmark import (
    DEFAULT_THREADS,
    config_name,
    ratio_table,
    run_one,
    timing_options,
    write_out,
)

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


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('configs', nargs='+')
    p.add_argument('--iters', type=int, default=80)
    p.add_argument('--init', nargs='+', default=None, metavar='CKPT',
                   help='initial checkpoint; a second one for student_b')
    p.add_argument('--work-root', default='work_dirs/benchmark_cost')
    p.add_argument('--threads', type=int, default=DEFAULT_THREADS)
    p.add_argument('--out', default=None)
    args = p.parse_args()
    if args.init and len(args.init) > 2:
        p.error('--init takes one checkpoint, or two (the second for '
                'student_b)')
    results = {}
    for config in args.configs:
        name = config_name(config)
        results[name] = run_one(
            config, 0, osp.join(args.work_root, name),
            timing_options(args.iters) + init_options(config, args.init),
            args.threads)
    text = ratio_table(results, config_name(args.configs[0]), str,
                       f'training step ({args.iters} iters, alone, '
                       f'{args.threads} threads)')
    print(text, flush=True)
    write_out(args.out, text)


if __name__ == '__main__':
    main()
