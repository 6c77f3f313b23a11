"""Where a training step's time goes: cProfile over a short run, reported as
the cumulative time of named parts per iteration.

    python tools/profile_step.py CONFIG [--iters 40] [--cfg-options k=v ...]

The default parts are those of a teacher-student step (supervised loss,
teacher pseudo-labelling, Soft Teacher's box jitter, the view step, the
unsupervised loss and its pieces, backward, optimiser step, EMA, data
loading); a part that does not run is left out.  Parts nest (the RPN loss
is inside the unsupervised loss), so they do not add up to the step; the
first ``--skip`` iterations are excluded by profiling only the rest.
Threads are pinned as in the benchmarks (:mod:`mmkd.utils.benchmark`).
"""
import argparse
import cProfile
import os
import pstats
import sys

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


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--iters', type=int, default=40)
    p.add_argument('--skip', type=int, default=5,
                   help='warm-up iterations left out of the profile')
    p.add_argument('--work-dir', default='work_dirs/profile')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   default={})
    return p.parse_args()


def main():
    args = parse_args()
    from mmkd.utils.benchmark import pinned_thread_env
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
    profiler = cProfile.Profile()

    class ProfileHook(Hook):
        priority = 'LOWEST'

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            if runner.iter + 1 == args.skip:
                profiler.enable()

    runner = Runner.from_cfg(cfg)
    runner.register_hook(ProfileHook())
    runner.train()
    profiler.disable()
    n = args.iters - args.skip
    stats = pstats.Stats(profiler).stats
    rows = {}
    for (path, _, func), (_, _, _, cum, _) in stats.items():
        for label, suffix, name in PARTS:
            if func == name and path.endswith(suffix):
                rows[label] = rows.get(label, 0.0) + cum
    step = rows.get('whole training step', float('nan'))
    print(f'\n{args.config}: seconds per iteration ({n} profiled, cProfile '
          'overhead included)\n')
    print('| part | s/iter | share of the step |\n|---|---|---|')
    seen = set()
    for label, _, _ in PARTS:
        if label in rows and label not in seen:
            seen.add(label)
            print(f'| {label} | {rows[label] / n:.3f} | '
                  f'{rows[label] / step:.0%} |')


if __name__ == '__main__':
    main()
