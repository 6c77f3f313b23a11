"""Training loop that resumes without replaying the data pipeline."""
import logging

from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop as MMEngineIterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator

from mmkd.registry import LOOPS


@LOOPS.register_module()
class IterBasedTrainLoop(MMEngineIterBasedTrainLoop):
    """mmengine's iteration loop, except on ``--resume``: mmengine advances
    the dataloader by loading (and augmenting) every image of the iterations
    already trained -- hours on a large run.  When the sampler can skip
    (:class:`~mmkd.datasets.samplers.SemiSampler`), this loop moves the
    sampler ahead instead and loads nothing; otherwise it falls back to
    mmengine's replay.

    It also checks that ``train_dataloader.batch_size`` is a whole number
    of the sampler's labelled+unlabelled units.
    """

    def __init__(self, runner, dataloader, *args, **kwargs):
        super().__init__(runner, dataloader, *args, **kwargs)
        self._check_units()

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
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            self._advance_data()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def _advance_data(self):
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
