"""Write semi-supervised COCO splits ``{fold}@{percent}``.

For each percent and fold: ``instances_train2017.{fold}@{percent}.json``
(labelled images and their annotations), ``…-unlabeled.json`` (the other
images, no annotations) and, with ``--keep-hidden-gt``,
``…-unlabeled.gt.json`` (their annotations, for pseudo-label statistics).
Images are sampled without replacement; the split depends only on
``--seed`` and the fold.

    python tools/misc/split_coco.py --data-root data/coco \\
        --labeled-percent 1 5 10 --fold 5
"""
import argparse
import os.path as osp

from mmkd.datasets.coco_split import write_splits


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data-root', default='data/coco')
    p.add_argument('--ann-file',
                   default='annotations/instances_train2017.json',
                   help='relative to --data-root')
    p.add_argument('--out-dir', default=None,
                   help='default: <data-root>/annotations/semi_anns, '
                   'where the configs read them')
    p.add_argument('--labeled-percent', type=float, nargs='+',
                   default=[1, 2, 5, 10])
    p.add_argument('--fold', type=int, default=5, help='number of folds')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--keep-hidden-gt', action='store_true')
    return p.parse_args()


def main():
    args = parse_args()
    out_dir = args.out_dir or osp.join(args.data_root, 'annotations',
                                        'semi_anns')
    written = write_splits(osp.join(args.data_root, args.ann_file), out_dir,
                           args.labeled_percent, args.fold, args.seed,
                           args.keep_hidden_gt)
    print(f'{len(written)} files written to {out_dir}')


if __name__ == '__main__':
    main()
