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
