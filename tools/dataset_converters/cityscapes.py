"""Write Cityscapes' ``*_gtFine_labelTrainIds.png`` next to each
``*_gtFine_labelIds.png``: the 19 evaluated classes as train ids 0-18, every
other id as 255 (ignored), the mapping of cityscapesscripts' ``labels.py``.

    python tools/dataset_converters/cityscapes.py data/cityscapes

mmseg's converter builds the same images from the polygon JSON files and
needs the ``cityscapesscripts`` package; the label-id PNGs that ship in
``gtFine_trainvaltest.zip`` are enough here, with numpy and OpenCV only.
"""
import argparse
import glob
import os.path as osp
import sys
from multiprocessing import Pool

import cv2
import numpy as np

# Cityscapes label id -> train id for the 19 evaluated classes (road,
# sidewalk, building, wall, fence, pole, traffic light, traffic sign,
# vegetation, terrain, sky, person, rider, car, truck, bus, train,
# motorcycle, bicycle); every other id (void classes, parking, rail track,
# guard rail, bridge, tunnel, pole group, caravan, trailer) is ignored.
ID_TO_TRAIN_ID = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7,
                  21: 8, 22: 9, 23: 10, 24: 11, 25: 12, 26: 13, 27: 14,
                  28: 15, 31: 16, 32: 17, 33: 18}
IGNORE = 255
SUFFIX = '_gtFine_labelIds.png'


def lookup_table():
    table = np.full(256, IGNORE, np.uint8)
    for label_id, train_id in ID_TO_TRAIN_ID.items():
        table[label_id] = train_id
    return table


def convert(path, table=None):
    """Write the train-id image of one label-id PNG; returns its path."""
    ids = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if ids is None or ids.ndim != 2:
        raise ValueError(f'{path}: not a single-channel label-id PNG')
    out = path[:-len(SUFFIX)] + '_gtFine_labelTrainIds.png'
    table = lookup_table() if table is None else table
    cv2.imwrite(out, table[ids])
    return out


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('data_root', help='the folder holding gtFine/')
    p.add_argument('--nproc', type=int, default=4)
    return p.parse_args()


def main():
    args = parse_args()
    files = sorted(glob.glob(osp.join(args.data_root, 'gtFine', '*', '*',
                                      '*' + SUFFIX)))
    if not files:
        sys.exit(f'error: no *{SUFFIX} under '
                 f'{osp.join(args.data_root, "gtFine")}/<split>/<city>/: '
                 'unpack gtFine_trainvaltest.zip there')
    with Pool(args.nproc) as pool:
        pool.map(convert, files, chunksize=16)
    print(f'{len(files)} train-id label images written')


if __name__ == '__main__':
    main()
