"""Train a model with an mmkd / mmdet / mmseg config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.device import get_device
from mmengine.registry import RUNNERS
from mmengine.runner import Runner, find_latest_checkpoint

from mmkd.utils import (
    ConfigError,
    apply_global_batch,
    check_cfg_options,
    check_resume_checkpoint,
    cpu_distributed_setup,
    register_all_modules,
    report_input_errors,
    world_size_of,
)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp', action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the learning rate by the actual total batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or, with no value, from the '
        'latest checkpoint in the work dir')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value (xxx=[a,b] for '
        'lists, nested keys with dots)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or
    # --local_rank (older)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_amp(optim_wrapper):
    """``--amp``: every optimiser wrapper becomes an ``AmpOptimWrapper``
    (dynamic loss scale) -- the one of the config, or each member's under
    ``mmkd.MemberOptimWrapperConstructor``."""
    device = get_device()
    if device == 'cpu':
        raise ConfigError('--amp needs a GPU (mixed precision runs on CUDA, '
                          'NPU, MLU or MUSA devices); none is available here')
    members = [cfg for cfg in optim_wrapper.values()
               if isinstance(cfg, dict) and 'optimizer' in cfg]
    for cfg in members or [optim_wrapper]:
        kind = cfg.get('type', 'OptimWrapper')
        if kind == 'AmpOptimWrapper':
            print('AMP training is already enabled in the config.')
        elif kind != 'OptimWrapper':
            raise ConfigError(f'--amp replaces OptimWrapper by '
                              f'AmpOptimWrapper; this config uses {kind}')
        else:
            cfg.type = 'AmpOptimWrapper'
            cfg.loss_scale = 'dynamic'


def build_config(args):
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        check_cfg_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        enable_amp(cfg.optim_wrapper)
    if args.auto_scale_lr:
        if cfg.get('auto_scale_lr', {}).get('base_batch_size') is None:
            raise RuntimeError('--auto-scale-lr needs `auto_scale_lr = dict('
                               'base_batch_size=N)` in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = build_config(args)
    batch_line = apply_global_batch(cfg, world_size_of(args.launcher))
    cpu_distributed_setup(cfg, args.launcher)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    runner.logger.info(batch_line)
    if cfg.get('resume'):
        path = cfg.get('load_from') or find_latest_checkpoint(runner.work_dir)
        if path:
            check_resume_checkpoint(runner.model, path)
    runner.train()


if __name__ == '__main__':
    with report_input_errors():
        main()
