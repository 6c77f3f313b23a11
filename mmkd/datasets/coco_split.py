"""Labelled / unlabelled splits of a COCO instances file.

mmdet's ``tools/misc/split_coco.py`` draws the labelled images with
``np.random.choice`` and its default ``replace=True``, so a "10 %" split holds
duplicates and fewer distinct images than it says.  Here images are drawn
without replacement, one seeded generator per fold.
"""
import json
import os
import os.path as osp

import numpy as np


def load_coco_json(path):
    """Read an instances JSON, with a clear error for a wrong file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: annotation file not found')
    with open(path) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'{path}: not valid JSON ({e})') from e
    for key in ('images', 'categories'):
        if key not in data:
            raise ValueError(
                f'{path}: COCO instances JSON without "{key}" (keys: '
                f'{sorted(data)}); expected images, annotations, categories')
    return data


def split_coco(data, percent, fold, seed=1):
    """Split COCO ``data`` into (labelled, unlabelled, unlabelled_gt) dicts.

    ``percent`` of the images (rounded, at least 1) are labelled; the
    unlabelled dict has no annotations, ``unlabelled_gt`` keeps them hidden
    for pseudo-label precision/recall.  Same ``(seed, fold)`` → same split.
    """
    images = sorted(data['images'], key=lambda im: im['id'])
    n = len(images)
    n_lab = max(1, int(round(n * percent / 100.0)))
    rng = np.random.default_rng([seed, fold])
    chosen = set(rng.choice(n, size=n_lab, replace=False).tolist())
    lab_ids = {images[i]['id'] for i in chosen}
    anns = data.get('annotations', [])
    common = {k: v for k, v in data.items()
              if k not in ('images', 'annotations')}
    labelled = dict(common,
                    images=[im for im in images if im['id'] in lab_ids],
                    annotations=[a for a in anns
                                 if a['image_id'] in lab_ids])
    unl_images = [im for im in images if im['id'] not in lab_ids]
    unlabelled = dict(common, images=unl_images, annotations=[])
    hidden_gt = dict(common, images=unl_images,
                     annotations=[a for a in anns
                                  if a['image_id'] not in lab_ids])
    return labelled, unlabelled, hidden_gt


def split_names(ann_file, out_dir, percent, fold):
    """Output paths ``(labelled, unlabelled, hidden_gt)`` (mmdet naming)."""
    stem = osp.splitext(osp.basename(ann_file))[0]
    base = osp.join(out_dir, f'{stem}.{fold}@{percent:g}')
    return (base + '.json', base + '-unlabeled.json',
            base + '-unlabeled.gt.json')


def write_splits(ann_file, out_dir, percents, folds, seed=1,
                 keep_hidden_gt=True):
    data = load_coco_json(ann_file)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for percent in percents:
        for fold in range(1, folds + 1):
            parts = split_coco(data, percent, fold, seed)
            paths = split_names(ann_file, out_dir, percent, fold)
            for part, path in zip(parts, paths):
                if part is parts[2] and not keep_hidden_gt:
                    continue
                with open(path, 'w') as f:
                    json.dump(part, f)
                written.append(path)
    return written
