"""Where a training step's time goes: wall-clock timers around named
functions over a short run, reported per iteration.

    python tools/analysis_tools/profile_step.py CONFIG [--iters 40] \\
        [--cfg-options k=v ...]

The default parts are those of a teacher-student step (supervised loss,
teacher pseudo-labelling, Soft Teacher's box jitter, the view step, the
unsupervised loss and its pieces, backward, optimiser step, EMA, data
loading); a part that does not run is left out.  Each part times the
outermost call of the functions it names (a data preprocessor that calls
another is counted once); parts nest (the RPN loss is inside the
unsupervised loss), so they do not add up to the step.  The first
``--skip`` iterations are left out.  Timers instead of cProfile: cProfile
charged every Python call, which inflated the Python-heavy parts (the data
preprocessor's data-element copies) several-fold.  Threads are pinned as in
the benchmarks (benchmark_utils.py).

``--ops N`` also lists the N operators with the most self CPU time per
iteration over the same iterations (``torch.profiler``; its bookkeeping
slows the step, so the part table of such a run reads a little high).
"""
import argparse
import collections
import functools
import os
import sys
import time

from mmengine.config import DictAction

# (label, file suffix, function name)
PARTS = [
    ('whole training step', 'base_model.py', 'train_step'),
    ('data loading (next batch)', 'dataloader.py', '__next__'),
    ('data preprocessor', 'data_preprocessor.py', 'forward'),
    ('backbone + neck (all forwards)', 'two_stage.py', 'extract_feat'),
    ('supervised loss (student fwd)', 'model.py', 'sup_loss'),
    ('teacher pseudo-labelling', 'soft_teacher.py', 'pseudo_label'),
    ('  box jitter uncertainty', 'soft_teacher.py', 'regression_uncertainty'),
    ('teacher pseudo-labelling', 'mean_teacher.py', 'pseudo_label'),
    ('teacher pseudo-labelling', 'semi_segmentor.py', 'pseudo_label'),
    ('view step', 'semi_detector.py', 'to_student_view'),
    ('view step', 'semi_segmentor.py', 'to_student_view'),
    ('unsupervised loss (student fwd)', 'soft_teacher.py', 'unsup_loss'),
    ('  RPN loss + proposals', 'soft_teacher.py', 'rpn_loss'),
    ('  RoI classification loss', 'soft_teacher.py', 'rcnn_cls_loss'),
    ('    teacher background scores', 'soft_teacher.py',
     'teacher_background_prob'),
    ('  RoI regression loss', 'soft_teacher.py', 'rcnn_reg_loss'),
    ('  proposal sampling', 'soft_teacher.py', '_sample'),
    ('unsupervised loss (student fwd)', 'mean_teacher.py', 'unsup_loss'),
    ('unsupervised loss (student fwd)', 'semi_segmentor.py', 'unsup_loss'),
    ('backward', 'optimizer_wrapper.py', 'backward'),
    ('optimiser step', 'optimizer_wrapper.py', 'step'),
    ('EMA teacher update', 'ema.py', 'after_train_iter'),
]


class PartTimer:
    """Seconds spent in named parts: ``instrument`` wraps methods with
    wall-clock timers; a part's time is that of its outermost call, so a
    method calling another of the same part (a data preprocessor wrapping
    another) is not counted twice."""

    def __init__(self):
        self.totals = collections.defaultdict(float)
        self._depth = collections.Counter()

    def wrap(self, fn, label):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            if self._depth[label]:  # nested call of the same part
                return fn(*args, **kwargs)
            self._depth[label] += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.totals[label] += time.perf_counter() - t0
                self._depth[label] -= 1
        return timed

    def instrument(self, modules, parts):
        """Wrap every method ``name`` defined by a class of one of
        ``modules`` whose file ends with ``suffix``, for each ``(label,
        suffix, name)`` of ``parts``."""
        for module in modules:
            path = getattr(module, '__file__', None) or ''
            for label, suffix, name in parts:
                if not path.endswith(suffix):
                    continue
                for obj in list(vars(module).values()):
                    if isinstance(obj, type) and \
                            obj.__module__ == module.__name__ and \
                            name in vars(obj):
                        setattr(obj, name, self.wrap(vars(obj)[name], label))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--iters', type=int, default=40)
    p.add_argument('--skip', type=int, default=5,
                   help='warm-up iterations left out of the profile')
    p.add_argument('--ops', type=int, default=0, metavar='N',
                   help='also list the N operators with the most self CPU '
                   'time (torch.profiler)')
    p.add_argument('--work-dir', default='work_dirs/profile')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   default={})
    return p.parse_args()


def main():
    args = parse_args()
    from benchmark_utils import pinned_thread_env
    if os.environ.get('MMKD_PROFILE_CHILD') is None:  # re-run pinned
        env = dict(pinned_thread_env(), MMKD_PROFILE_CHILD='1')
        os.execve(sys.executable, [sys.executable, *sys.argv], env)

    from mmengine.config import Config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from mmkd.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(dict(
        work_dir=args.work_dir,
        train_cfg=dict(max_iters=args.iters, val_begin=args.iters + 1),
        default_hooks=dict(checkpoint=dict(interval=10**6),
                           logger=dict(interval=10**6))))
    cfg.merge_from_dict(args.cfg_options)
    at_skip = {}
    profiler = None
    if args.ops:
        import torch
        profiler = torch.profiler.profile(
            activities=[torch.profiler.ProfilerActivity.CPU])

    class OperatorHook(Hook):
        priority = 'HIGHEST'  # stops before the last checkpoint is saved

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            if runner.iter + 1 == args.skip:
                profiler.start()
            elif runner.iter + 1 == args.iters:
                profiler.stop()

    class SnapshotHook(Hook):
        priority = 'LOWEST'

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            if runner.iter + 1 == args.skip:
                at_skip.update(timer.totals)

    timer = PartTimer()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(SnapshotHook())
    if profiler is not None:
        runner.register_hook(OperatorHook())
    timer.instrument(list(sys.modules.values()), PARTS)
    runner.train()
    n = args.iters - args.skip
    rows = {k: v - at_skip.get(k, 0.0) for k, v in timer.totals.items()}
    step = rows.get('whole training step', float('nan'))
    print(f'\n{args.config}: seconds per iteration ({n} timed, after '
          f'{args.skip} warm-up iterations)\n')
    print('| part | s/iter | share of the step |\n|---|---|---|')
    seen = set()
    for label, _, _ in PARTS:
        if label in rows and label not in seen:
            seen.add(label)
            print(f'| {label} | {rows[label] / n:.3f} | '
                  f'{rows[label] / step:.0%} |')
    if profiler is not None:
        print(operator_table(profiler.key_averages(), args.ops, n, step))


def operator_table(events, top, n, step):
    """Markdown: the ``top`` operators by self CPU time, per iteration
    (``n`` iterations, ``step`` seconds of training steps in all)."""
    events = sorted(events, key=lambda e: e.self_cpu_time_total,
                    reverse=True)[:top]
    lines = [f'\noperators with the most self CPU time ({n} iterations, '
             'torch.profiler)\n',
             '| operator | self CPU s/iter | calls/iter | share of the step |',
             '|---|---|---|---|']
    for e in events:
        sec = e.self_cpu_time_total / 1e6  # microseconds
        lines.append(f'| {e.key} | {sec / n:.3f} | {e.count / n:.1f} | '
                     f'{sec / step:.0%} |')
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
