import math

from mmengine.hooks import Hook

from mmkd.registry import HOOKS
from mmkd.utils.unwrap import unwrap_model


@HOOKS.register_module()
class DistillWeightHook(Hook):
    """Schedule the distiller's ``distill_weight`` over training::

        w(t) = min(1, t / warmup_iters) · (end + (start − end) · d(t / T))

    with ``d`` = 1 (``'constant'``), ``1 − x`` (``'linear'``) or
    ``(1 + cos πx) / 2`` (``'cosine'``), ``T`` = the run's max iterations.
    The weight is logged as ``distill_weight``.
    """
    priority = 'NORMAL'

    def __init__(self, start=1.0, end=None, schedule='constant',
                 warmup_iters=0):
        if schedule not in ('constant', 'linear', 'cosine'):
            raise ValueError("schedule must be 'constant', 'linear' or "
                             f"'cosine', got {schedule!r}")
        self.start = start
        self.end = start if end is None else end
        self.schedule = schedule
        self.warmup_iters = warmup_iters

    def weight_at(self, it, max_iters):
        x = min(it / max(max_iters, 1), 1.0)
        decay = dict(constant=1.0, linear=1.0 - x,
                     cosine=(1 + math.cos(math.pi * x)) / 2)[self.schedule]
        ramp = min(1.0, it / self.warmup_iters) if self.warmup_iters else 1.0
        return ramp * (self.end + (self.start - self.end) * decay)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = unwrap_model(runner.model)
        if not hasattr(model, 'distill_weight'):
            raise TypeError(f'DistillWeightHook: {type(model).__name__} has '
                            'no distill_weight (use a FeatureDistiller)')
        model.distill_weight = self.weight_at(runner.iter, runner.max_iters)
        runner.message_hub.update_scalar('train/distill_weight',
                                         model.distill_weight)
