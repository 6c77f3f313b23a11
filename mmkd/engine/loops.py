"""Loops: training that resumes without replaying the data pipeline, and
validation / test of the members a teacher-student model names."""
import logging
from contextlib import contextmanager

from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop, ValLoop
from mmengine.runner import IterBasedTrainLoop as MMEngineIterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator

from mmkd.registry import LOOPS
from mmkd.utils.random_state import rng_state_kept
from mmkd.utils.unwrap import unwrap_model


def validates_now(loop) -> bool:
    """Whether a training loop (iteration or epoch) validates after its
    current step: mmengine's condition, which both its loops write inline;
    ``RNGStateHook`` asks it too."""
    loop._decide_current_val_interval()
    if isinstance(loop, EpochBasedTrainLoop):
        step, last = loop.epoch, loop.max_epochs
    else:
        step, last = loop.iter, loop.max_iters
    return (step >= loop.val_begin
            and (step % loop.val_interval == 0 or step == last))


@LOOPS.register_module()
class IterBasedTrainLoop(MMEngineIterBasedTrainLoop):
    """mmengine's iteration loop, except on ``--resume``: mmengine advances
    the dataloader by loading (and augmenting) every image of the iterations
    already trained -- hours on a large run.  When the sampler can skip
    (:class:`~mmkd.datasets.samplers.SemiSampler`), this loop moves the
    sampler ahead instead and loads nothing; otherwise it falls back to
    mmengine's replay.

    It also checks that ``train_dataloader.batch_size`` is a whole number
    of the sampler's labelled+unlabelled units, and tells the sampler how
    many units a process batch holds (in distributed runs each rank takes
    its block of every global batch).
    """

    def __init__(self, runner, dataloader, *args, **kwargs):
        super().__init__(runner, dataloader, *args, **kwargs)
        self._check_units()
        self._set_units_per_batch()

    def _set_units_per_batch(self):
        sampler = self.dataloader.sampler
        if not hasattr(sampler, 'units_per_batch'):
            return
        units = self.dataloader.batch_size // sampler.unit
        if units == sampler.units_per_batch:
            return
        sampler.units_per_batch = units
        if getattr(sampler, 'world_size', 1) > 1:
            # the iterator made with the loop sharded by the old block; on
            # one process the block changes nothing (and nothing is redone)
            with rng_state_kept():
                self.dataloader_iterator = _InfiniteDataloaderIterator(
                    self.dataloader)

    def _check_units(self):
        sampler = self.dataloader.sampler
        unit = getattr(sampler, 'unit', None)
        if unit and self.dataloader.batch_size % unit:
            raise ValueError(
                f'train_dataloader.batch_size={self.dataloader.batch_size} is '
                f'not a multiple of {unit} = sum(sampler.ratio='
                f'{sampler.ratio}): every batch must hold whole '
                'labelled:unlabelled units')

    def run(self):
        # mmengine's run(), but for the resume step (and validates_now, its
        # own condition): it replays the data and warns "Advance dataloader"
        # inside run(), with no method to override -- so run() is written
        # here again, the lines otherwise as mmengine's
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            self._advance_data()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)
            if self.runner.val_loop is not None and validates_now(self):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def _advance_data(self):
        # the uninterrupted run made its iterator (and drew its workers'
        # seed) before the checkpoint: the generators restored from it must
        # not move here
        with rng_state_kept():
            self._skip_trained_batches()

    def _skip_trained_batches(self):
        sampler = self.dataloader.sampler
        if hasattr(sampler, 'skip'):
            print_log(f'Resuming at iteration {self._iter}: the sampler skips '
                      f'{self._iter} batches without loading them',
                      logger='current')
            sampler.skip(self._iter * self.dataloader.batch_size)
            # a fresh iterator draws from the moved sampler (the one built
            # with the loop may have prefetched from the start)
            self.dataloader_iterator = _InfiniteDataloaderIterator(
                self.dataloader)
            return
        print_log(f'Advance dataloader {self._iter} steps to skip data that '
                  'has already been trained', logger='current',
                  level=logging.WARNING)
        for _ in range(self._iter):
            next(self.dataloader_iterator)


@contextmanager
def predicting_with(model, name):
    """Inside the block ``model`` (a teacher-student model, possibly wrapped)
    predicts with member or ensemble ``name``."""
    model = unwrap_model(model)
    model.check_predictor(name)
    saved, model.predict_on = model.predict_on, name
    try:
        yield
    finally:
        model.predict_on = saved


def _evaluation_members(loop, members):
    model = loop.runner.model
    model = unwrap_model(model)
    if members is None:
        members = getattr(model, 'evaluation_members', None)
    return None if members is None else list(members)


def _evaluate(loop):
    for idx, data_batch in enumerate(loop.dataloader):
        loop.run_iter(idx, data_batch)
    return loop.evaluator.evaluate(len(loop.dataloader.dataset))


@LOOPS.register_module()
class MemberValLoop(ValLoop):
    """Validation of every member a teacher-student model names
    (``evaluation_members``: its teachers, students and ensembles, or those
    given in ``members``), with any evaluator (mmdet, mmseg, 3D): metrics
    are logged as ``<member>/<metric>`` (``teacher/coco/bbox_mAP``,
    ``ta/mIoU``, ``ensemble/Dice``), so ``CheckpointHook(save_best=...)``
    keeps a best checkpoint of each.  A model without members is validated
    as by mmengine's ``ValLoop``.

    Unlike mmdet's ``TeacherStudentValLoop`` it does not hard-code
    ``teacher`` and ``student``.
    """

    def __init__(self, runner, dataloader, evaluator, fp16=False,
                 members=None):
        super().__init__(runner, dataloader, evaluator, fp16)
        self.members = members

    @property
    def loader_passes(self) -> int:
        """How many times a validation iterates over the loader: once per
        member."""
        members = _evaluation_members(self, self.members)
        return 1 if members is None else len(members)

    def run(self) -> dict:
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        self.val_loss.clear()
        members = _evaluation_members(self, self.members)
        if members is None:
            metrics = _evaluate(self)
        else:
            metrics = {}
            for name in members:
                with predicting_with(self.runner.model, name):
                    metrics.update({f'{name}/{k}': v
                                    for k, v in _evaluate(self).items()})
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

