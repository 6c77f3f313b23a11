"""Generate mmkd's demo data sets (deterministic, a few minutes on 2 cores).

Writes, under ``--out`` (default ``data/``), in the real formats so the real
loaders run on them:

* ``coco_demo/``: COCO instances JSON (boxes, RLE instance masks) of textured
  shapes in clutter, train/val, plus semi-supervised splits at 1, 5 and 10 %
  (``annotations/semi_anns/instances_train2017.{fold}@{percent}[-unlabeled]
  .json``); the unlabelled JSON carries no annotations, the hidden ground
  truth is in ``…-unlabeled.gt.json``.
* ``cityscapes_demo/``: ``leftImg8bit/{train,val}/<city>/…_leftImg8bit.png``
  and ``gtFine/…_gtFine_labelTrainIds.png`` (19 train ids, 255 ignore) of
  street-like scenes, split lists for 1/16, 1/8 and 1/4 labelled.
* ``cbct_demo/``: NIfTI volumes with anisotropic spacing, HU-like intensities,
  teeth along a jaw arc whose calibration, noise, pose, size and field of
  view vary from scan to scan, with implants, bone islands and metal
  streaks; binary (or tooth-type) labels; labelled/unlabelled/val lists and
  the budget lists ``labeled_<n>.txt`` / ``unlabeled_<n>.txt``.

Usage::

    python tools/make_demo_data.py [--out data] [--only coco cityscapes cbct]

The generators are ``tools/demo_data/{coco,cityscapes,cbct}.py``.
"""
import argparse
import os.path as osp

import numpy as np
from demo_data.cbct import CBCT_STYLES, make_cbct
from demo_data.cityscapes import make_cityscapes
from demo_data.coco import COCO_STYLES, make_coco


def parse_args():
    p = argparse.ArgumentParser(description='Generate mmkd demo data')
    p.add_argument('--out', default='data')
    p.add_argument('--only', nargs='+', default=['coco', 'cityscapes',
                                                 'cbct'],
                   choices=['coco', 'cityscapes', 'cbct'])
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--coco-train', type=int, default=2000)
    p.add_argument('--coco-val', type=int, default=200)
    p.add_argument('--coco-size', type=int, default=160)
    p.add_argument('--coco-style', choices=sorted(COCO_STYLES),
                   default='clean',
                   help="object layout (demo_data/coco.py COCO_STYLES; "
                   "'cluttered' is harder)")
    p.add_argument('--city-train', type=int, default=320)
    p.add_argument('--city-val', type=int, default=64)
    p.add_argument('--city-size', type=int, nargs=2, default=[128, 256],
                   metavar=('H', 'W'))
    p.add_argument('--city-style', choices=['plain', 'varied', 'longtail',
                                            'objects'],
                   default='objects',
                   help="street-scene appearance (demo_data/cityscapes.py); "
                   "'objects' is the label-hungry demo, 'plain' the scenes "
                   "of the distillation tables")
    p.add_argument('--cbct-train', type=int, default=16)
    p.add_argument('--cbct-val', type=int, default=8)
    p.add_argument('--cbct-labeled', type=int, default=4)
    p.add_argument('--cbct-shape', type=int, nargs=3, default=[80, 80, 48])
    p.add_argument('--cbct-spacing', type=float, nargs=3,
                   default=[0.4, 0.4, 0.6])
    p.add_argument('--cbct-budgets', type=int, nargs='*', default=[1, 2, 4],
                   help='also write labeled_<n>.txt / unlabeled_<n>.txt')
    p.add_argument('--cbct-style', choices=sorted(CBCT_STYLES),
                   default='varied',
                   help="scan appearance: 'varied' is the label-hungry demo, "
                   "'plain' an easy one")
    p.add_argument('--cbct-multiclass', action='store_true',
                   help='label teeth by type 1..4 instead of binary')
    return p.parse_args()


def main():
    args = parse_args()
    # one generator per data set, so each is reproducible on its own
    seeds = np.random.SeedSequence(args.seed).spawn(3)
    if 'coco' in args.only:
        make_coco(args.out, np.random.default_rng(seeds[0]), args.coco_train,
                  args.coco_val, args.coco_size, [1, 5, 10], 1,
                  args.coco_style)
    if 'cityscapes' in args.only:
        make_cityscapes(args.out, np.random.default_rng(seeds[1]),
                        args.city_train, args.city_val, *args.city_size,
                        args.city_style)
    if 'cbct' in args.only:
        make_cbct(args.out, np.random.default_rng(seeds[2]), args.cbct_train,
                  args.cbct_val, args.cbct_labeled, tuple(args.cbct_shape),
                  tuple(args.cbct_spacing), args.cbct_multiclass,
                  args.cbct_style, args.cbct_budgets)
    print(f'demo data written to {osp.abspath(args.out)}')


if __name__ == '__main__':
    main()
