"""The README's demo: train each config, evaluate its last checkpoint with
``tools/test.py``, print a results table.

    python tools/run_demo.py CONFIG [CONFIG ...] [--work-root work_dirs/demo]
"""
import argparse
import glob
import json
import os.path as osp
import subprocess
import sys

from mmkd.utils.benchmark import config_name, last_checkpoint


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('configs', nargs='+')
    p.add_argument('--work-root', default='work_dirs/demo')
    p.add_argument('--cfg-options', nargs='+', default=[])
    return p.parse_args()


def test_metrics(work_dir):
    """Metrics of the newest ``tools/test.py`` run in ``work_dir``."""
    files = sorted(glob.glob(osp.join(work_dir, 'test', '*', '*.json')))
    if not files:
        raise RuntimeError(f'no test metrics under {work_dir}/test')
    with open(files[-1]) as f:
        return json.load(f)


def main():
    args = parse_args()
    tools = osp.dirname(osp.abspath(__file__))
    rows = []
    for config in args.configs:
        name = config_name(config)
        work_dir = osp.join(args.work_root, name)
        opts = ['--cfg-options', *args.cfg_options] if args.cfg_options \
            else []
        subprocess.check_call([sys.executable, osp.join(tools, 'train.py'),
                               config, '--work-dir', work_dir, *opts])
        ckpt = last_checkpoint(work_dir)
        subprocess.check_call([
            sys.executable, osp.join(tools, 'test.py'), config, ckpt,
            '--work-dir', osp.join(work_dir, 'test'), *opts
        ])
        metrics = {k: v for k, v in test_metrics(work_dir).items()
                   if '/' in k or k in ('mIoU', 'aAcc', 'mAcc')}
        rows.append((name, osp.basename(ckpt), metrics))
    print('\nResults (tools/test.py on the last checkpoint):')
    print('| config | checkpoint | metrics |')
    print('|---|---|---|')
    for name, ckpt, metrics in rows:
        text = ', '.join(f'{k} {v:.4g}' for k, v in metrics.items()
                         if isinstance(v, (int, float)))
        print(f'| {name} | {ckpt} | {text} |')


if __name__ == '__main__':
    main()
