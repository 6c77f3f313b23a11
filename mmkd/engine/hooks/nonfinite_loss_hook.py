"""Stop (or skip the step) when a loss is not finite, before anything is
saved.

mmengine trains on through ``loss: nan``: a diverging run (the demo Soft
Teacher at ``lr=1e5``) logged nan from its first logged iteration, ran all
its iterations, exited 0 and saved a checkpoint with 260 of its 300 tensors
non-finite, from which ``--resume`` went on.  This hook ends such a run at
the first bad iteration with one line naming the loss term, and never lets
a checkpoint with non-finite weights be written (latest or best).
"""
import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict

from mmkd.registry import HOOKS
from mmkd.utils.errors import TrainingError

ACTIONS = ('stop', 'skip')


def first_nonfinite(log_vars: dict):
    """``(name, value)`` of the first non-finite loss term (the terms
    before the total ``loss``), or None; one host sync when all are
    finite."""
    terms = [(name, torch.as_tensor(value).detach().float().mean())
             for name, value in log_vars.items() if 'loss' in name]
    terms.sort(key=lambda term: term[0] == 'loss')
    if not terms or bool(torch.isfinite(
            torch.stack([value for _, value in terms])).all()):
        return None
    for name, value in terms:
        if not torch.isfinite(value):
            return name, float(value)


def _wrappers(optim_wrapper):
    if isinstance(optim_wrapper, OptimWrapperDict):
        return list(optim_wrapper.values())
    return [optim_wrapper]


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """What to do about a non-finite loss or gradient.

    ``action='stop'`` (default): after the first iteration whose loss terms
    are not all finite, training stops with ``error: iteration N: loss term
    'unsup_loss_cls' is nan ...`` (exit status 2 from ``tools/train.py``),
    before the checkpoint hook runs.

    ``action='skip'``: an optimiser step whose gradients are not all finite
    is not taken (the gradients are dropped; the schedule goes on), and the
    skipped steps are logged as ``skipped_steps``; after ``max_skips``
    skipped steps in a row the run stops as above.  ``AmpOptimWrapper``
    already skips such steps (its loss scaler must see them to lower the
    scale), so its steps are left to it.

    Either way a checkpoint whose weights are not all finite is refused
    (``TrainingError``) instead of written over the last good one or kept as
    best.  In distributed runs the ranks agree on the decision (one flag is
    all-reduced per iteration), so they stop together.
    """
    priority = 'ABOVE_NORMAL'  # before the logger and checkpoint hooks

    def __init__(self, action='stop', max_skips=20):
        if action not in ACTIONS:
            raise ValueError(f'NonFiniteLossHook: action must be one of '
                             f'{ACTIONS}, got {action!r}')
        self.action = action
        self.max_skips = max_skips
        self.skipped = 0
        self.in_a_row = 0

    # -- skipping --------------------------------------------------------
    def before_train(self, runner):
        if self.action != 'skip':
            return
        for wrapper in _wrappers(runner.optim_wrapper):
            if isinstance(wrapper, OptimWrapper) and \
                    not isinstance(wrapper, AmpOptimWrapper):
                wrapper.step = self._guarded(wrapper, wrapper.step)

    def _guarded(self, wrapper, step):

        def guarded_step(**kwargs):
            grads = [p.grad for group in wrapper.optimizer.param_groups
                     for p in group['params'] if p.grad is not None]
            finite = torch.stack(
                [torch.isfinite(g).all() for g in grads]).all() \
                if grads else torch.tensor(True)
            if bool(finite):
                self.in_a_row = 0
                return step(**kwargs)
            self.skipped += 1
            self.in_a_row += 1

        return guarded_step

    # -- stopping --------------------------------------------------------
    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        bad = first_nonfinite(outputs or {})
        if self.action == 'skip':
            runner.message_hub.update_scalar('train/skipped_steps',
                                             self.skipped)
            if self.in_a_row < self.max_skips:
                bad = None
        stop = torch.tensor(0. if bad is None else 1.)
        if get_world_size() > 1:
            all_reduce(stop)
        if not stop.item():
            return
        where = f'iteration {runner.iter + 1}'
        if bad is None:
            raise TrainingError(
                f'{where}: the loss is not finite on another process; '
                'training stopped before saving (the last checkpoint in '
                f'{runner.work_dir} is the last good one)')
        name, value = bad
        skipped = (f' after {self.in_a_row} skipped steps in a row'
                   if self.action == 'skip' else '')
        raise TrainingError(
            f"{where}: loss term '{name}' is {value}{skipped}; training "
            f'stopped before saving (the last checkpoint in '
            f'{runner.work_dir} is the last good one): lower the learning '
            'rate (optim_wrapper.optimizer.lr), add gradient clipping '
            '(optim_wrapper.clip_grad), or skip such steps with '
            "NonFiniteLossHook(action='skip')")

    def before_save_checkpoint(self, runner, checkpoint):
        bad = [name for name, value in checkpoint.get('state_dict', {}).items()
               if isinstance(value, torch.Tensor)
               and value.is_floating_point() and not torch.isfinite(
                   value).all()]
        if bad:
            raise TrainingError(
                f'iteration {runner.iter}: {len(bad)} weights are not finite '
                f'(e.g. {bad[0]}); the checkpoint was not written (the last '
                f'one in {runner.work_dir} is the last good one)')
