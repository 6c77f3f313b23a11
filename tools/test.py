"""Test (evaluate) a checkpoint with an mmkd / mmdet / mmseg config.

    python tools/test.py CONFIG CHECKPOINT [--model NAME] [--work-dir DIR]
        [--out FILE] [--show] [--show-dir DIR] [--tta] [--out-dir DIR]
        [--cfg-options k=v ...] [--launcher pytorch]

A checkpoint that does not fill every parameter of the config's model (a
checkpoint of another model) is refused before the test runs.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmkd.utils import (
    check_cfg_options,
    check_checkpoint_fills_model,
    cpu_distributed_setup,
    register_all_modules,
    report_input_errors,
)


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--model', help='the member of a teacher-student model to test '
        '(teacher, student, or a named one; default: its predict_on)')
    parser.add_argument('--work-dir', help='the dir to save the metrics')
    parser.add_argument(
        '--out', type=str,
        help='dump predictions to a pickle file (.pkl) for offline '
        'evaluation')
    parser.add_argument(
        '--show', action='store_true',
        help='show the predictions in a window (needs a display)')
    parser.add_argument(
        '--tta', action='store_true',
        help="test-time augmentation: the config's tta_model and "
        'tta_pipeline')
    parser.add_argument(
        '--show-dir',
        help='directory (inside the work dir) where painted images are '
        'saved')
    parser.add_argument(
        '--out-dir',
        help='3D configs: write the predicted label volumes as NIfTI, with '
        "each input's affine and spacing, to this directory (inside the "
        'work dir when relative)')
    parser.add_argument('--wait-time', type=float, default=2,
                        help='the interval of show (s)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_show(cfg, show):
    """Paint test predictions in a window (mmdet's / mmseg's ``--show``)."""
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        raise SystemExit('error: --show needs a visualization hook in '
                         'default_hooks (mmdet DetVisualizationHook or mmseg '
                         'SegVisualizationHook)')
    hooks.visualization.update(draw=True, show=show)


def enable_tta(cfg):
    """Wrap the model in the config's ``tta_model`` and test with its
    ``tta_pipeline``, as mmdet's and mmseg's ``tools/test.py --tta``."""
    if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
        raise SystemExit('error: --tta needs tta_model and tta_pipeline in '
                         'the config (see mmdet / mmseg configs that have '
                         'them)')
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def enable_show_dir(cfg, show_dir):
    """Paint test predictions with the visualization hook of the config's
    code base (``det_vis`` for mmdet, ``visualization`` for mmseg)."""
    hooks = cfg.default_hooks
    key = 'visualization' if 'visualization' in hooks else None
    if key is None:
        raise RuntimeError('--show-dir needs a visualization hook in '
                           'default_hooks (mmdet DetVisualizationHook or '
                           'mmseg SegVisualizationHook)')
    hooks[key]['draw'] = True
    if 'test_out_dir' in hooks[key] or hooks[key]['type'].endswith(
            ('DetVisualizationHook', 'VolumePredictionHook')):
        hooks[key]['test_out_dir'] = show_dir
    else:  # mmseg's hook writes under the visualizer's save_dir
        cfg.visualizer['save_dir'] = osp.join(cfg.work_dir, show_dir)
    hooks[key]['wait_time'] = 0


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        check_cfg_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    if args.model is not None:
        cfg.model.predict_on = args.model  # checked when the model is built
    if args.tta:
        enable_tta(cfg)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show:
        enable_show(cfg, True)
    if args.show_dir:
        enable_show_dir(cfg, args.show_dir)
    if args.out_dir:
        hook = cfg.default_hooks.get('visualization', {})
        if 'VolumePredictionHook' not in str(hook.get('type', '')):
            raise SystemExit('error: --out-dir writes NIfTI predictions of '
                             '3D configs (default_hooks.visualization = '
                             "mmkd.VolumePredictionHook); this config's "
                             f"visualization hook is {hook.get('type')}")
        hook['out_dir'] = args.out_dir
    cpu_distributed_setup(cfg, args.launcher)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    if args.out is not None:
        assert args.out.endswith(('.pkl', '.pickle')), \
            '--out must be a .pkl file'
        from mmengine.evaluator import DumpResults
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    check_checkpoint_fills_model(runner.model, args.checkpoint)
    runner.test()


if __name__ == '__main__':
    with report_input_errors():
        main()
