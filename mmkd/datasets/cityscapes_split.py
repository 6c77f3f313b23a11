"""Labelled / unlabelled splits of the Cityscapes train set, as split lists
(one ``city/city_seq_frame`` a line) that ``mmkd.CityscapesDataset`` reads
as ``ann_file``.

The field's Cityscapes splits (CPS, U2PL, UniMatch: 1/16, 1/8, 1/4, 1/2 of
the 2975 train images) are fixed lists; this writes seeded ones of the same
sizes for any Cityscapes-layout directory, so a split depends only on the
seed and the directory's file names.
"""
import glob
import os
import os.path as osp

import numpy as np

from mmkd.utils.errors import DataError


def cityscapes_train_names(data_root, img_dir='leftImg8bit/train',
                           suffix='_leftImg8bit.png'):
    """``city/city_seq_frame`` of every training image, sorted."""
    folder = osp.join(data_root, img_dir)
    if not osp.isdir(folder):
        raise DataError(f'Cityscapes image directory {folder!r} does not '
                        'exist (expected <data-root>/leftImg8bit/train/'
                        '<city>/*_leftImg8bit.png)')
    paths = glob.glob(osp.join(folder, '*', '*' + suffix))
    if not paths:
        raise DataError(f'no *{suffix} images under {folder!r}/<city>/')
    return sorted(osp.relpath(p, folder)[:-len(suffix)] for p in paths)


def split_cityscapes(names, denominators=(16, 8, 4, 2), seed=1):
    """``{denominator: (labelled, unlabelled)}``: ``round(len(names) /
    denominator)`` labelled names (2975 images: 186, 372, 744, 1488)
    drawn without replacement by one seeded permutation (so a 1/8 split
    contains the 1/16 split), the rest unlabelled; both in input order."""
    order = np.random.default_rng(seed).permutation(len(names))
    out = {}
    for d in denominators:
        chosen = set(order[:max(1, round(len(names) / d))].tolist())
        out[d] = ([n for i, n in enumerate(names) if i in chosen],
                  [n for i, n in enumerate(names) if i not in chosen])
    return out


def write_cityscapes_splits(data_root, out_dir=None,
                            denominators=(16, 8, 4, 2), seed=1):
    """Write ``<out_dir>/1_<d>/{labeled,unlabeled}.txt``; return the paths."""
    out_dir = out_dir or osp.join(data_root, 'splits')
    written = []
    splits = split_cityscapes(cityscapes_train_names(data_root),
                              denominators, seed)
    for d, (labelled, unlabelled) in splits.items():
        folder = osp.join(out_dir, f'1_{d}')
        os.makedirs(folder, exist_ok=True)
        for fname, names in (('labeled.txt', labelled),
                             ('unlabeled.txt', unlabelled)):
            path = osp.join(folder, fname)
            with open(path, 'w') as f:
                f.writelines(n + '\n' for n in names)
            written.append(path)
    return written
