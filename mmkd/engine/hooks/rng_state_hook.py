from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook

from mmkd.engine.loops import validates_now
from mmkd.registry import HOOKS
from mmkd.utils.random_state import (
    get_rng_state,
    rng_state_kept,
    set_rng_state,
)


def _loaders(runner):
    """The train and validation loaders that exist, by name."""
    loops = dict(train=runner.train_loop, val=runner.val_loop)
    return {name: loop.dataloader for name, loop in loops.items()
            if getattr(loop, 'dataloader', None) is not None}


def _checkpoint_due(runner, at_epoch_end: bool) -> bool:
    """Whether a ``CheckpointHook`` saves at the end of this iteration (or,
    ``at_epoch_end``, this epoch) -- its own rule."""
    for hook in runner.hooks:
        if not isinstance(hook, CheckpointHook) or \
                hook.by_epoch != at_epoch_end:
            continue
        if at_epoch_end:
            due = hook.every_n_epochs(runner, hook.interval, hook.save_begin)
            last = hook.is_last_train_epoch(runner)
        else:
            due = hook.every_n_train_iters(runner, hook.interval,
                                           hook.save_begin)
            last = hook.is_last_train_iter(runner)
        if due or (hook.save_last and last):
            return True
    return False


def _made_its_iterator(loader) -> bool:
    # torch keeps the iterator of a loader with persistent workers in the
    # private ``_iterator`` (None until its first pass)
    return getattr(loader, '_iterator', None) is not None


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the random generators' states in checkpoints and restore them on
    ``--resume``, so a resumed run continues exactly.

    mmengine re-seeds a resumed run with the run's initial seed, so the
    random draws of the model (RPN/RoI samplers, dropout) after the resume
    differ from those of the uninterrupted run.  This hook stores python's,
    numpy's and torch's (CPU and CUDA) generator states and puts them back
    when the checkpoint is resumed (not on ``load_from``).

    Dataloaders draw too: torch takes one number from the global generator
    each time a loader makes an iterator (its workers' base seed), and a
    loader with persistent workers makes one on its first pass only.  The
    uninterrupted run's first validation draws once; a resumed process
    would draw again at its own first validation, and it skips the
    validation that followed the saved checkpoint.  So the hook also records
    which loaders had made their iterator; on resume, before training goes
    on, it makes those again without drawing, then starts passes over the
    validation loader as often as the skipped validation did (no batch is
    used; workers may prefetch a few, which are dropped).
    Validation must draw nothing else (models predict deterministically).

    Data augmentation runs in dataloader workers, which mmengine seeds
    deterministically and which replay the skipped iterations, so exactness
    needs ``num_workers >= 1``; with ``num_workers=0`` augmentation shares
    the main process's generators.  In distributed runs the states of rank 0
    are saved and given to every rank.

    In distributed runs every rank's generators are gathered (one
    collective, at the iterations the checkpoint hook saves and after each
    validation, after which it saves the best and the latest) and saved;
    on resume with as many processes each rank takes its own, with another
    number of processes rank 0's.
    """
    # before CheckpointHook (VERY_LOW): the ranks' states are gathered in
    # after_train_iter / after_train_epoch, before it saves
    priority = 'LOW'

    def __init__(self):
        self._made_before_resume = None
        self._rank_states = None  # (runner.iter, [state of each rank])

    def _gather(self, runner, at_epoch_end):
        if get_world_size() > 1 and _checkpoint_due(runner, at_epoch_end):
            self._rank_states = (runner.iter,
                                 all_gather_object(get_rng_state()))

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self._gather(runner, at_epoch_end=False)

    def after_train_epoch(self, runner):
        self._gather(runner, at_epoch_end=True)

    def after_val_epoch(self, runner, metrics=None):
        # the checkpoint hook saves the best checkpoints after a validation,
        # and the latest again (to record the best scores)
        if get_world_size() > 1:
            self._rank_states = (runner.iter,
                                 all_gather_object(get_rng_state()))

    def before_save_checkpoint(self, runner, checkpoint):
        state = get_rng_state()
        state['loaders_made'] = sorted(
            name for name, loader in _loaders(runner).items()
            if _made_its_iterator(loader))
        if self._rank_states is not None and \
                self._rank_states[0] == runner.iter:
            state['ranks'] = self._rank_states[1]
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint):
        state = checkpoint.get('rng_state')
        if state is None or not runner._resume:
            return
        ranks = state.get('ranks')
        set_rng_state(ranks[get_rank()] if ranks and len(ranks) ==
                      get_world_size() else state)
        # checkpoints of older mmkd versions do not say; left as they were
        self._made_before_resume = state.get('loaders_made')

    def before_train(self, runner):
        if self._made_before_resume is None:
            return
        made, self._made_before_resume = self._made_before_resume, None
        loaders = _loaders(runner)
        with rng_state_kept():
            for name in made:
                if name in loaders and not _made_its_iterator(loaders[name]):
                    iter(loaders[name])
        # mmengine's loops validate right after saving a step's checkpoint,
        # which the resumed run skipped
        if 'val' in loaders and validates_now(runner.train_loop):
            for _ in range(getattr(runner.val_loop, 'loader_passes', 1)):
                iter(loaders['val'])
