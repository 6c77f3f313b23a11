"""Write semi-supervised Cityscapes splits ``splits/1_<d>/{labeled,
unlabeled}.txt`` (split lists for ``mmkd.CityscapesDataset``'s ann_file).

    python tools/misc/split_cityscapes.py --data-root data/cityscapes \\
        --denominators 16 8 4 2 --seed 1

``round(len(train) / d)`` labelled images per split, drawn by one seeded
permutation (1/16 ⊂ 1/8 ⊂ 1/4 ⊂ 1/2); the rest unlabelled.
"""
import argparse

from mmkd.datasets.cityscapes_split import write_cityscapes_splits
from mmkd.utils.errors import report_input_errors


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data-root', default='data/cityscapes')
    p.add_argument('--out-dir', default=None,
                   help='default: <data-root>/splits')
    p.add_argument('--denominators', type=int, nargs='+',
                   default=[16, 8, 4, 2])
    p.add_argument('--seed', type=int, default=1)
    return p.parse_args()


def main():
    args = parse_args()
    with report_input_errors():
        written = write_cityscapes_splits(args.data_root, args.out_dir,
                                          args.denominators, args.seed)
    print(f'{len(written)} split files written')


if __name__ == '__main__':
    main()
