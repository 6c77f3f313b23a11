"""Write the case lists of a CBCT folder: ``labeled.txt``, ``unlabeled.txt``
and ``val.txt`` (one case name a line, the file name without ``.nii.gz``).

    python tools/misc/split_cbct.py --data-root data/cbct --num-labeled 4 \\
        --num-val 2

``<data-root>/images/<case>.nii.gz`` are the scans, ``labels/<case>.nii.gz``
the label volumes of the cases that have one. Validation cases are drawn
from the labelled cases first, then the labelled training cases; every
other scan (with or without a label file) is unlabelled. The draw depends
only on ``--seed``.
"""
import argparse
import glob
import os.path as osp
import random
import sys

SUFFIX = '.nii.gz'


def cases(folder):
    return sorted(osp.basename(p)[:-len(SUFFIX)]
                  for p in glob.glob(osp.join(folder, '*' + SUFFIX)))


def split_cases(scans, labelled, num_labeled, num_val, seed=0):
    """(labeled, unlabeled, val) lists; ``labelled`` are the scans with a
    label volume."""
    order = sorted(labelled)
    random.Random(seed).shuffle(order)
    if num_val + num_labeled > len(order):
        raise ValueError(
            f'{num_val} validation + {num_labeled} labelled cases asked, '
            f'{len(order)} scans have a label volume')
    val = sorted(order[:num_val])
    labeled = sorted(order[num_val:num_val + num_labeled])
    unlabeled = sorted(set(scans) - set(val) - set(labeled))
    return labeled, unlabeled, val


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data-root', default='data/cbct')
    p.add_argument('--num-labeled', type=int, required=True)
    p.add_argument('--num-val', type=int, required=True)
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args()


def main():
    args = parse_args()
    scans = cases(osp.join(args.data_root, 'images'))
    if not scans:
        sys.exit(f'error: no *{SUFFIX} in '
                 f'{osp.join(args.data_root, "images")}/')
    labelled = [c for c in cases(osp.join(args.data_root, 'labels'))
                if c in scans]
    try:
        lists = split_cases(scans, labelled, args.num_labeled, args.num_val,
                            args.seed)
    except ValueError as e:
        sys.exit(f'error: {args.data_root}: {e}')
    for name, items in zip(('labeled', 'unlabeled', 'val'), lists):
        with open(osp.join(args.data_root, f'{name}.txt'), 'w') as f:
            f.write(''.join(c + '\n' for c in items))
    print(f'{args.data_root}: {len(lists[0])} labelled, {len(lists[1])} '
          f'unlabelled, {len(lists[2])} validation cases')


if __name__ == '__main__':
    main()
