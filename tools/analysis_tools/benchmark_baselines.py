"""Train configs one after another and tabulate metric, s/iter and peak
memory (the README's baseline table).

    python tools/analysis_tools/benchmark_baselines.py CONFIG [CONFIG ...] \\
        [--seeds 0 1] [--work-root work_dirs/benchmark] [--out table.md] \\
        [--threads N] [--cfg-options k=v ...]

For each config and seed it runs ``tools/train.py`` in a child process and
reads mmengine's ``vis_data/scalars.json``: the median ``time`` of the
training iterations (the first 10 % skipped as warm-up), the last value of
each validation metric, and the child's peak resident memory (``wait4``) --
or peak CUDA memory from the log when training on a GPU.  Every run has a
fixed thread count (``--threads``; see benchmark_utils.py), so a
rerun gives the same numbers.
"""
import argparse

from benchmark_utils import add_run_args, config_name, run_one, write_out


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('configs', nargs='+')
    add_run_args(p, reuse=False)
    p.add_argument('--metric', action='append', default=None,
                   help='metric key(s) to report (default: all from the '
                   'last validation)')
    p.add_argument('--cfg-options', nargs='+', default=[])
    return p.parse_args()


def main():
    args = parse_args()
    lines = ['| config | seed | metrics | s/iter (median) | peak memory | '
             'wall (min) |', '|---|---|---|---|---|---|']
    for config in args.configs:
        name = config_name(config)
        for seed in args.seeds:
            work_dir = f'{args.work_root}/{name}_seed{seed}'
            r = run_one(config, seed, work_dir, args.cfg_options,
                        args.threads)
            keys = args.metric or sorted(r['metrics'])
            metrics = ', '.join(f'{k} {r["metrics"][k]:.4g}' for k in keys
                                if k in r['metrics'])
            mem = (f'{r["cuda_mem_mb"]:.0f} MB (CUDA)' if r['cuda_mem_mb']
                   else f'{r["peak_rss_mb"]:.0f} MB (RSS)')
            lines.append(f'| {name} | {seed} | {metrics} | '
                         f'{r["s_iter"]:.3f} | {mem} | {r["wall_min"]:.1f} |')
            print(lines[-1], flush=True)
    table = '\n'.join(lines)
    print(table)
    write_out(args.out, table)


if __name__ == '__main__':
    main()
