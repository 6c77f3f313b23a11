"""Hashes of a semi-supervised config's unlabelled views (the teacher's
weak view and the student's strong view), with fixed seeds: run it under
two environments (another CPU, ``OPENCV_CPU_DISABLE=AVX2``, another OpenCV)
and compare the lines to see whether the augmented images differ.

    python tools/analysis_tools/strong_view_hashes.py CONFIG [--num 24]
"""
import argparse
import hashlib
import random

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmkd.utils import register_all_modules


def view_hashes(cfg, num):
    from mmkd.registry import DATASETS
    dataset = DATASETS.build(cfg.train_dataloader.dataset.unlabeled)
    hashes = []
    for index in range(min(num, len(dataset))):
        random.seed(index)
        np.random.seed(index)
        torch.manual_seed(index)
        inputs = dataset[index]['inputs']
        digest = hashlib.md5()
        for branch in sorted(inputs):
            if inputs[branch] is not None:
                digest.update(inputs[branch].numpy().tobytes())
        hashes.append(digest.hexdigest()[:8])
    return hashes


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--num', type=int, default=24)
    args = p.parse_args()
    register_all_modules()
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmkd'))
    import cv2
    print(f'opencv {cv2.__version__}, numpy {np.__version__}; '
          f'{cv2.getCPUFeaturesLine()}')
    print(' '.join(view_hashes(cfg, args.num)))


if __name__ == '__main__':
    main()
