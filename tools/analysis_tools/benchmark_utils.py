"""What the benchmark tools and ``tools/analysis_tools/run_demo.py`` share:
training a
config in a child process with a pinned thread count, reading its scalars,
reusing finished runs (resuming unfinished ones), the common command-line
options, and timing one call (the operator benchmarks).

Pinned threads: a CPU run's numbers depend on how many threads its matrix
kernels split the work into (reductions add in another order): the demo
Faster R-CNN's loss with 1 and with 2 threads parts at iteration 10 and the
runs end apart (measured), while a busy machine with the count fixed changes
nothing.  Earlier table runs made two at a time with ``OMP_NUM_THREADS=1``
therefore did not come back on a fresh clone, which runs with the machine's
2 threads.  Every child here runs with ``OMP_NUM_THREADS`` =
``MKL_NUM_THREADS`` = ``--threads`` (default 2, the reference machine's
cores, whatever the environment says) and MKL's / OpenMP's dynamic
adjustment off, so a rerun of a table command gives its numbers.
"""
import concurrent.futures
import glob
import json
import os
import os.path as osp
import platform
import re
import statistics
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version

from mmengine.config import Config

TOOLS = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))), 'tools')
_NOT_METRICS = {'time', 'data_time', 'step', 'iter', 'epoch', 'lr', 'memory'}


DEFAULT_THREADS = 2


def pinned_thread_env(threads=None) -> dict:
    """Environment of a child run with a fixed number of compute threads."""
    n = str(threads or DEFAULT_THREADS)
    return dict(os.environ, OMP_NUM_THREADS=n, MKL_NUM_THREADS=n,
                MKL_DYNAMIC='FALSE', OMP_DYNAMIC='FALSE')


def add_run_args(parser, seeds=(0, ), cost_iters=None, reuse=True):
    """Options every benchmark has: seeds, work root, output file, thread
    count, and ``--force`` when it reuses finished runs (``reuse``), the
    cost mode's when ``cost_iters`` is given."""
    parser.add_argument('--seeds', type=int, nargs='+', default=list(seeds))
    parser.add_argument('--work-root', default='work_dirs/benchmark')
    parser.add_argument('--out', default=None, help='append the table here')
    if reuse:
        parser.add_argument('--force', action='store_true',
                            help='retrain runs found in --work-root')
    parser.add_argument('--threads', type=int, default=None,
                        help='compute threads of every run (default '
                        f'{DEFAULT_THREADS}); fixed, so reruns are exact')
    if cost_iters is not None:
        parser.add_argument('--cost', action='store_true',
                            help='time short runs instead (see above)')
        parser.add_argument('--cost-iters', type=int, default=cost_iters)


def _cpu() -> str:
    fields = {}
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                key, _, value = line.partition(':')
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or platform.machine()
    name, family, model = (fields.get(k, '?')
                           for k in ('model name', 'cpu family', 'model'))
    return f'{name} (family {family}, model {model})'


def environment() -> str:
    """One line naming what a table's numbers depend on besides the code and
    the thread count (README "Reproducing a table"): the CPU and the versions
    of torch, mmcv, mmdet and the image / array libraries (a newer OpenCV
    augments the unlabelled images differently)."""
    versions = []
    for name in ('torch', 'mmcv', 'mmdet', 'opencv-python', 'numpy'):
        try:
            versions.append(f'{name} {version(name)}')
        except PackageNotFoundError:
            versions.append(f'{name} absent')
    return f'environment: {_cpu()}; ' + ', '.join(versions)


def write_out(path, text):
    """Print the environment line under the table just printed; append both
    to ``path`` if given."""
    env = environment()
    print(env, flush=True)
    if path:
        with open(path, 'a') as f:
            f.write(text + '\n\n' + env + '\n\n')


def read_scalars(work_dir):
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')))
    if not files:
        raise RuntimeError(f'no scalars.json under {work_dir}')
    with open(files[-1]) as f:
        return [json.loads(line) for line in f]


def summarise(rows):
    """Median s/iter (first 10 % skipped), the last validation's metrics and
    the peak CUDA memory of a run's scalars."""
    train = [r for r in rows if 'loss' in r and 'time' in r]
    times = [r['time'] for r in train[len(train) // 10:]]
    val = [r for r in rows if 'loss' not in r and set(r) - _NOT_METRICS]
    metrics = {k: v for k, v in (val[-1] if val else {}).items()
               if k not in _NOT_METRICS}
    mem = max((r.get('memory', 0) for r in train), default=0)
    return dict(s_iter=statistics.median(times) if times else float('nan'),
                metrics=metrics, cuda_mem_mb=mem)


def run_one(config, seed, work_dir, cfg_options, threads=None, out=None,
            resume=False):
    """``tools/train.py`` in a child process with pinned threads: its
    summary, peak resident memory (``wait4``) and wall time.  The child's
    output goes to this process's, or to the open file ``out`` (for runs
    made side by side, whose lines would otherwise interleave).  With
    ``resume`` it continues from the last checkpoint in ``work_dir`` (or,
    given a path, from that checkpoint)."""
    cmd = [sys.executable, osp.join(TOOLS, 'train.py'), config, '--work-dir',
           work_dir, *(['--resume'] if resume is True else
                       ['--resume', resume] if resume else []),
           '--cfg-options',
           f'randomness.seed={seed}', *cfg_options]
    env = pinned_thread_env(threads)
    print(f'+ OMP_NUM_THREADS={env["OMP_NUM_THREADS"]}', ' '.join(cmd),
          f'> {out.name}' if out else '', flush=True)
    t0 = time.time()
    proc = subprocess.Popen(cmd, env=env, stdout=out,
                            stderr=subprocess.STDOUT if out else None)
    _, status, rusage = os.wait4(proc.pid, 0)
    if status != 0:
        where = f'; its output: {out.name}' if out else ''
        raise RuntimeError(
            f'{config} (seed {seed}) failed: status {status}{where}')
    summary = summarise(read_scalars(work_dir))
    summary['peak_rss_mb'] = rusage.ru_maxrss / 1024
    summary['wall_min'] = (time.time() - t0) / 60
    return summary


def side_by_side(jobs):
    """Run the callables ``jobs`` at the same time (one thread each, for
    jobs that wait on child processes) and return their results in order.

    Two 1-thread trainings side by side on 2 cores finish in about the time
    of one 2-thread training (the demo Soft Teacher: 0.44-0.45 s/iter each
    side by side at 1 thread against 0.39 alone at 2, Intel Xeon): the narrow
    demo models do not keep two threads busy."""
    with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
        return [f.result() for f in [pool.submit(job) for job in jobs]]


def timing_options(iters):
    """``--cfg-options`` of a timing run: ``iters`` iterations, every one
    logged, no validation, no checkpoint."""
    return [f'train_cfg.max_iters={iters}', f'train_cfg.val_begin={iters + 1}',
            'default_hooks.checkpoint.interval=100000',
            'default_hooks.logger.interval=1']


def median_time(fn, repeats) -> float:
    """Median seconds of ``repeats`` calls of ``fn`` after one warm-up
    call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def config_name(config):
    return osp.splitext(osp.basename(config))[0]


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def finished(work_dir):
    """Whether the run in ``work_dir`` reached its end: its last checkpoint
    is that of the final iteration (or epoch) of the config mmengine dumped
    there.  A run cut off midway has checkpoints too (``last_checkpoint``
    alone does not tell); one whose dumped config or checkpoint name cannot
    be read is taken as finished."""
    if not osp.exists(osp.join(work_dir, 'last_checkpoint')):
        return False
    step = re.fullmatch(r'(iter|epoch)_(\d+)\.pth',
                        osp.basename(last_checkpoint(work_dir)))
    dumped = glob.glob(osp.join(work_dir, '*.py'))
    if step is None or len(dumped) != 1:
        return True
    train_cfg = Config.fromfile(dumped[0]).get('train_cfg') or {}
    end = train_cfg.get(f'max_{step.group(1)}s')
    return end is None or int(step.group(2)) >= end


def validated_at_end(work_dir):
    """Whether a run that validates (some session logged a metric) logged
    one after its last training iteration: a run cut off between its final
    checkpoint and the validation that follows it did not."""
    sessions = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                         'scalars.json')))
    rows = []
    for path in sessions:
        with open(path) as f:
            rows.append([json.loads(line) for line in f])
    is_val = [[('loss' not in r and bool(set(r) - _NOT_METRICS)) for r in rs]
              for rs in rows]
    if not any(any(v) for v in is_val):
        return True  # a run without validation
    last = is_val[-1] if is_val else []
    return bool(last) and last[-1]


def previous_checkpoint(work_dir):
    """The checkpoint before the last one (None if there is none)."""
    last = osp.basename(last_checkpoint(work_dir))
    steps = sorted(
        (int(m.group(2)), path) for path in glob.glob(osp.join(
            work_dir, '*.pth'))
        for m in [re.fullmatch(r'(iter|epoch)_(\d+)\.pth',
                               osp.basename(path))] if m)
    earlier = [path for step, path in steps if osp.basename(path) != last]
    return earlier[-1] if earlier else None


def train_or_reuse(config, seed, work_root, options=(), suffix='',
                   force=False, threads=None):
    """Train one run; reuse it when its work dir holds a finished run, and
    resume it (exactly, from its last checkpoint) when it holds one that was
    cut off, so a table command that was interrupted goes on where it
    stopped (cut off after its final checkpoint but before the validation
    after it: its last interval runs again from the checkpoint before)."""
    work_dir = osp.join(work_root, f'{config_name(config)}{suffix}_seed{seed}')
    if not force and finished(work_dir):
        if validated_at_end(work_dir):
            print(f'reusing {work_dir}', flush=True)
            return work_dir, summarise(read_scalars(work_dir))
        previous = previous_checkpoint(work_dir)
        print(f'{work_dir} stopped before its final validation: running its '
              f'last interval again from {previous}', flush=True)
        return work_dir, run_one(config, seed, work_dir, list(options),
                                 threads, resume=previous or False)
    resume = not force and osp.exists(osp.join(work_dir, 'last_checkpoint'))
    if resume:
        print(f'resuming the unfinished run in {work_dir} from '
              f'{last_checkpoint(work_dir)}', flush=True)
    return work_dir, run_one(config, seed, work_dir, list(options), threads,
                             resume=resume)


def ratio_table(results, base, label, first_column):
    """A markdown cost table: s/iter and peak memory of each run and their
    ratios to run ``base``; ``label(run)`` names the rows."""
    ref = results[base]
    mem = 'cuda_mem_mb' if ref['cuda_mem_mb'] else 'peak_rss_mb'
    unit = 'CUDA' if mem == 'cuda_mem_mb' else 'RSS'
    lines = [f'| {first_column} | s/iter (median) | × {base} | peak memory '
             f'({unit}) | × {base} |', '|---|---|---|---|---|']
    for run, r in results.items():
        lines.append(f'| {label(run)} | {r["s_iter"]:.3f} | '
                     f'{r["s_iter"] / ref["s_iter"]:.2f} | {r[mem]:.0f} MB | '
                     f'{r[mem] / ref[mem]:.2f} |')
    return '\n'.join(lines)
