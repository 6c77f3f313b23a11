"""The global-batch contract: a config states the batch it was tuned for,
the run keeps it on any number of processes where it can, and says what it
changed and what it could not keep.

mmengine leaves this to the user: ``train_dataloader.batch_size`` is per
process, so the same config on 1, 4 or 8 GPUs trains with three global
batches at one learning rate (the most-asked question about
semi-supervised detectors: "1 GPU: 12.3 AP").  A config that sets::

    global_batch = dict(size=40)   # e.g. 8 GPUs x 5 (1 labelled : 4)

is run on ``N`` processes with ``size / N`` images per process when the
labelled:unlabelled units of ``SemiSampler`` divide evenly and a process
holds at most ``max_per_process`` images (default: the config's
``train_dataloader.batch_size``, what one GPU was tuned to hold); the sampler
gives each rank its block of every global batch (the images and order of
one process with the whole batch), so the learning rate, EMA momentum,
threshold-update intervals and schedule -- all counted in iterations of
one global batch -- stay as tuned.  When ``N`` cannot keep it, each process
takes the nearest whole number of units (at most ``max_per_process``), the
global batch changes and the learning rate follows mmengine's linear rule
(``auto_scale_lr``).
"""
import os

from .errors import ConfigError


def world_size_of(launcher: str) -> int:
    """The number of processes this run will have (before they start)."""
    if launcher == 'none':
        return 1
    return int(os.environ.get('WORLD_SIZE')
               or os.environ.get('SLURM_NTASKS')
               or os.environ.get('OMPI_COMM_WORLD_SIZE') or 1)


def _unit(cfg) -> tuple:
    sampler = cfg.train_dataloader.get('sampler') or {}
    ratio = sampler.get('ratio') if 'SemiSampler' in str(
        sampler.get('type', '')) else None
    return tuple(ratio) if ratio else None


def apply_global_batch(cfg, world_size: int) -> str:
    """Set ``train_dataloader.batch_size`` (and ``auto_scale_lr``) from
    ``cfg.global_batch`` for ``world_size`` processes; return the line the
    run logs.  Without ``global_batch``: the line says what the global
    batch is, and nothing changes."""
    per_process = cfg.train_dataloader.get('batch_size', 1)
    ratio = _unit(cfg)
    split = f' ({ratio[0]} labelled : {ratio[1]} unlabelled per unit)' \
        if ratio else ''
    spec = cfg.get('global_batch')
    if spec is None:
        return (f'global batch: {per_process * world_size} images '
                f'({world_size} processes x {per_process}){split}; the '
                'config states no global_batch, so nothing was scaled')
    size = spec.get('size') if isinstance(spec, dict) else None
    unit = sum(ratio) if ratio else 1
    if not isinstance(size, int) or size < unit or size % unit:
        raise ConfigError(
            f'global_batch.size must be a whole number of {unit}-image units '
            f'(sampler ratio {ratio}), got {size!r}')
    units = size // unit
    cap = spec.get('max_per_process') or per_process
    cap_units = max(1, cap // unit)
    per_units = max(1, min(cap_units, round(units / world_size)))
    kept = per_units * world_size == units
    batch = per_units * unit
    cfg.train_dataloader.batch_size = batch
    cfg.auto_scale_lr = dict(enable=True, base_batch_size=size)
    actual = batch * world_size
    common = (f'; per process: BatchNorm statistics and batch-wise mixing '
              f'(CutMix pairs) over {batch} images')
    if kept:
        return (f'global batch {size}{split} kept on {world_size} processes: '
                f'{batch} per process; learning rate, EMA momentum, '
                'threshold-update intervals and schedule as tuned' + common)
    why = (f'at most {cap_units * unit} per process: '
           'global_batch.max_per_process' if units > cap_units * world_size
           else f'{units} units do not divide')
    return (f'global batch {size}{split} cannot be kept on {world_size} '
            f'processes ({why}): {batch} per process, global {actual}; '
            f'learning rate scaled x{actual / size:g} '
            "(mmengine's linear rule); EMA momentum, threshold-update "
            f'intervals and schedule count iterations of {actual} images'
            + common)
