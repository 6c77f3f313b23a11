"""The README's demo: train each config with pinned threads (as the
benchmarks), evaluate its last checkpoint with ``tools/test.py`` and print
one table that a reader can take at its word.

    python tools/analysis_tools/run_demo.py CONFIG [CONFIG ...] [--work-root \\
        work_dirs/demo]
        [--no-control] [--side-by-side] [--seed 0] [--threads N]

For every semi-supervised config (a model with ``unsup_weight``) the demo
also trains its **control**: the same config, schedule, seed and starting
checkpoint with ``model.unsup_weight=0`` -- labelled data only, EMA teacher
and all -- so that the table separates what the unlabelled images gave from
what the extra iterations gave.  Rows: the run, its iterations, the metric
of teacher and student (``tools/test.py`` evaluates the member the config
predicts on; the other comes from the last validation), the pseudo-label
precision / recall of the last statistics interval, wall minutes.

``--side-by-side`` (``make demo``) trains a semi-supervised config and its
control at the same time, one thread each, their output in
``<work-root>/<run>.log``: on 2 cores the pair takes about the time of one
run.  Their numbers are those of 1-thread kernels -- exact on rerun, but
not the 2-thread numbers of the benchmark tables (see
``tools/analysis_tools/benchmark_utils.py``).
"""
import argparse
import contextlib
import functools
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import threading
import time

from benchmark_utils import (
    config_name,
    last_checkpoint,
    pinned_thread_env,
    read_scalars,
    run_one,
    side_by_side,
)
from mmengine.config import Config

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('configs', nargs='+')
    p.add_argument('--work-root', default='work_dirs/demo')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=None,
                   help='compute threads (default: benchmark_utils)')
    p.add_argument('--no-control', action='store_true',
                   help='skip the control run of semi-supervised configs')
    p.add_argument('--side-by-side', action='store_true',
                   help='train a semi-supervised config and its control at '
                   'the same time, 1 thread each (unless --threads)')
    p.add_argument('--cfg-options', nargs='+', default=[])
    p.add_argument('--progress-every', type=float, default=60,
                   help='seconds between progress lines of side-by-side runs')
    return p.parse_args()


def is_semi_supervised(config) -> bool:
    return 'unsup_weight' in Config.fromfile(config).model


def test_metrics(work_dir):
    """Metrics of the newest ``tools/test.py`` run in ``work_dir``."""
    files = sorted(glob.glob(osp.join(work_dir, 'test', '*', '*.json')))
    if not files:
        raise RuntimeError(f'no test metrics under {work_dir}/test')
    with open(files[-1]) as f:
        return json.load(f)


def last_pseudo_stats(work_dir):
    rows = [r for r in read_scalars(work_dir) if 'pseudo/precision' in r]
    return rows[-1] if rows else {}


def evaluate(config, work_dir, options, threads, out=None):
    ckpt = last_checkpoint(work_dir)
    subprocess.check_call([
        sys.executable, osp.join(TOOLS, 'test.py'), config, ckpt,
        '--work-dir', osp.join(work_dir, 'test'), *options
    ], env=pinned_thread_env(threads), stdout=out,
        stderr=subprocess.STDOUT if out else None)
    return test_metrics(work_dir)


def train_and_test(config, name, args, extra, threads, log=None):
    """One row of the table: train, test the last checkpoint, read the
    pseudo-label statistics; its wall minutes.  With ``log`` the children
    write there (a new file) instead of to the console."""
    work_dir = osp.join(args.work_root, name)
    options = [*args.cfg_options, *extra]
    t0 = time.time()
    if log:
        os.makedirs(osp.dirname(osp.abspath(log)), exist_ok=True)
    with open(log, 'w') if log else contextlib.nullcontext() as out:
        summary = run_one(config, args.seed, work_dir, options, threads, out)
        tested = evaluate(config, work_dir,
                          ['--cfg-options', *options] if options else [],
                          threads, out)
    val = dict(summary['metrics'], **tested)
    iters = re.search(r'iter_(\d+)', last_checkpoint(work_dir))
    iters = iters.group(1) if iters else '?'
    return (name, iters, val, last_pseudo_stats(work_dir),
            (time.time() - t0) / 60)


ITER = re.compile(r'Iter\(train\)\s*\[\s*(\d+)/(\d+)\].*?eta: (\S+)')


def progress_line(logs) -> str:
    """``name: iteration n/N, eta …`` of each log's last training line."""
    parts = []
    for name, log in logs:
        last = None
        if osp.isfile(log):
            with open(log, errors='replace') as f:
                for line in f:
                    m = ITER.search(line)
                    if m:
                        last = m
        parts.append(f'{name}: ' + (
            f'iteration {last.group(1)}/{last.group(2)}, eta {last.group(3)}'
            if last else 'starting'))
    return '; '.join(parts)


@contextlib.contextmanager
def report_progress(logs, every=60):
    """While the block runs, print the runs' progress every ``every``
    seconds (their output goes to log files, so the console would be silent
    for minutes)."""
    stop = threading.Event()

    def loop():
        while not stop.wait(every):
            print(f'  [{time.strftime("%H:%M:%S")}] {progress_line(logs)}',
                  flush=True)
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def member_metric(metrics, member):
    """The main metric of ``member`` (teacher / student), or of a plain
    model when the keys carry no member."""
    for key in ('coco/bbox_mAP', 'mIoU', 'coco/segm_mAP'):
        for k in (f'{member}/{key}', key):
            if k in metrics:
                return key, metrics[k]
    return None, None


def main():
    args = parse_args()
    rows = []
    start = time.time()
    for config in args.configs:
        runs = [(config_name(config), [])]
        if is_semi_supervised(config) and not args.no_control:
            runs.append((f'{config_name(config)}_control',
                         ['model.unsup_weight=0']))
        if args.side_by_side and len(runs) > 1:
            threads = args.threads or 1
            print(f'training {runs[0][0]} and its control side by side, '
                  f'{threads} thread(s) each; their output: '
                  f'{args.work_root}/<run>.log', flush=True)
            logs = [(name, osp.join(args.work_root, f'{name}.log'))
                    for name, _ in runs]
            with report_progress(logs, args.progress_every):
                rows += side_by_side([
                    functools.partial(train_and_test, config, name, args,
                                      extra, threads, log)
                    for (name, extra), (_, log) in zip(runs, logs)])
        else:
            rows += [train_and_test(config, name, args, extra, args.threads)
                     for name, extra in runs]
    total = (time.time() - start) / 60
    print(f'\nDemo results (seed {args.seed}; tools/test.py on each last '
          f'checkpoint; {total:.1f} min of training and testing, wall):')
    print('| run | iterations | metric | teacher | student (or the model) '
          '| pseudo-label precision / recall | minutes |')
    print('|---|---|---|---|---|---|---|')
    for name, iters, val, pseudo, minutes in rows:
        key, teacher = member_metric(val, 'teacher')
        _, student = member_metric(val, 'student')
        plain = not any(k.startswith('teacher/') for k in val)
        t = f'{teacher:.3f}' if teacher is not None and not plain else '-'
        s = f'{student:.3f}' if student is not None else '-'
        pr = (f'{pseudo["pseudo/precision"]:.2f} / '
              f'{pseudo["pseudo/recall"]:.2f}') if pseudo else '-'
        print(f'| {name} | {iters} | {key} | {t} | {s} | {pr} | '
              f'{minutes:.1f} |')


if __name__ == '__main__':
    main()
