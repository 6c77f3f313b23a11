"""Train configs one after another and tabulate metric, s/iter and peak
memory (the README's baseline table).

    python tools/benchmark_baselines.py CONFIG [CONFIG ...] \\
        [--seeds 0 1] [--work-root work_dirs/benchmark] [--out table.md] \\
        [--cfg-options k=v ...]

For each config and seed it runs ``tools/train.py`` in a child process and
reads mmengine's ``vis_data/scalars.json``: the median ``time`` of the
training iterations (the first 10 % skipped as warm-up), the last value of
each validation metric, and the child's peak resident memory (``wait4``) --
or peak CUDA memory from the log when training on a GPU.
"""
import argparse
import glob
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('configs', nargs='+')
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--work-root', default='work_dirs/benchmark')
    p.add_argument('--out', default=None, help='append the table here')
    p.add_argument('--metric', action='append', default=None,
                   help='metric key(s) to report (default: all from the '
                   'last validation)')
    p.add_argument('--cfg-options', nargs='+', default=[])
    return p.parse_args()


def read_scalars(work_dir):
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')))
    if not files:
        raise RuntimeError(f'no scalars.json under {work_dir}')
    rows = []
    with open(files[-1]) as f:
        for line in f:
            rows.append(json.loads(line))
    return rows


_NOT_METRICS = {'time', 'data_time', 'step', 'iter', 'epoch', 'lr', 'memory'}


def summarise(rows):
    train = [r for r in rows if 'loss' in r and 'time' in r]
    times = [r['time'] for r in train[len(train) // 10:]]
    val = [r for r in rows if 'loss' not in r and set(r) - _NOT_METRICS]
    metrics = {k: v for k, v in (val[-1] if val else {}).items()
               if k not in _NOT_METRICS}
    mem = max((r.get('memory', 0) for r in train), default=0)
    return dict(s_iter=statistics.median(times) if times else float('nan'),
                metrics=metrics, cuda_mem_mb=mem)


def run_one(config, seed, work_dir, cfg_options):
    cmd = [sys.executable, osp.join(osp.dirname(__file__), 'train.py'),
           config, '--work-dir', work_dir, '--cfg-options',
           f'randomness.seed={seed}', *cfg_options]
    print('+', ' '.join(cmd), flush=True)
    t0 = time.time()
    proc = subprocess.Popen(cmd)
    _, status, rusage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f'{config} (seed {seed}) failed: status {status}')
    out = summarise(read_scalars(work_dir))
    out['peak_rss_mb'] = rusage.ru_maxrss / 1024
    out['wall_min'] = (time.time() - t0) / 60
    return out


def timing_options(iters):
    """``--cfg-options`` of a timing run: ``iters`` iterations, every one
    logged, no validation, no checkpoint."""
    return [f'train_cfg.max_iters={iters}', f'train_cfg.val_begin={iters + 1}',
            'default_hooks.checkpoint.interval=100000',
            'default_hooks.logger.interval=1']


def config_name(config):
    return osp.splitext(osp.basename(config))[0]


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def train_or_reuse(config, seed, work_root, options=(), suffix='',
                   force=False):
    """Train one run, or reuse it when its work dir holds a finished run."""
    work_dir = osp.join(work_root, f'{config_name(config)}{suffix}_seed{seed}')
    if not force and osp.exists(osp.join(work_dir, 'last_checkpoint')):
        print(f'reusing {work_dir}', flush=True)
        return work_dir, summarise(read_scalars(work_dir))
    return work_dir, run_one(config, seed, work_dir, list(options))


def main():
    args = parse_args()
    lines = ['| config | seed | metrics | s/iter (median) | peak memory | '
             'wall (min) |', '|---|---|---|---|---|---|']
    for config in args.configs:
        name = osp.splitext(osp.basename(config))[0]
        for seed in args.seeds:
            work_dir = osp.join(args.work_root, f'{name}_seed{seed}')
            r = run_one(config, seed, work_dir, args.cfg_options)
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
    if args.out:
        with open(args.out, 'a') as f:
            f.write(table + '\n\n')


if __name__ == '__main__':
    main()
