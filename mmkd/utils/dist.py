"""Distributed set-up that also works on a CPU-only torch.

mmengine's ``init_dist`` calls ``torch.cuda.set_device`` (an
``AttributeError`` on the CPU build) and its ``wrap_model`` passes
``device_ids=[LOCAL_RANK]`` to DDP, which DDP rejects for CPU modules.  On a
machine without CUDA we start a gloo process group ourselves (the Runner then
skips its own ``init_dist``) and ask DDP for ``device_ids=None``.
"""
import torch
import torch.distributed as torch_dist


def cpu_distributed_setup(cfg, launcher):
    """Start gloo and adapt ``cfg.model_wrapper_cfg`` for a run without CUDA.

    Does nothing when CUDA is available or ``launcher == 'none'``.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} needs CUDA; on a CPU-only machine use '
            '--launcher pytorch (tools/dist_train.sh), which runs on gloo')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = \
        'gloo'
    if not torch_dist.is_initialized():
        # torchrun provides RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT
        torch_dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def mean_over_ranks(values: dict) -> dict:
    """Scalar tensors averaged over the processes (detached; as they are
    on one process): for decisions every rank must take alike."""
    from mmengine.dist import all_reduce, get_world_size
    values = {k: v.detach() for k, v in values.items()}
    if get_world_size() == 1 or not values:
        return values
    stacked = torch.stack([v.float().reshape(()) for v in values.values()])
    all_reduce(stacked, op='mean')
    return dict(zip(values, stacked))


def average_buffers_over_ranks(module) -> None:
    """Replace ``module``'s floating-point buffers (BatchNorm's running
    statistics) by their mean over the processes, in one collective."""
    from mmengine.dist import all_reduce, get_world_size
    if get_world_size() == 1:
        return
    buffers = [b for b in module.buffers() if b.is_floating_point()]
    if not buffers:
        return
    flat = torch.cat([b.detach().float().reshape(-1) for b in buffers])
    all_reduce(flat, op='mean')
    for b, mean in zip(buffers, flat.split([b.numel() for b in buffers])):
        b.copy_(mean.view_as(b))
