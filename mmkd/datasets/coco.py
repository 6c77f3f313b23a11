"""COCO detection dataset with input checks.

mmdet's ``CocoDataset`` accepts a missing or malformed annotation file with a
deep traceback (or, for a JSON without ``images``, with zero images), and a
class list that does not match the file's categories silently drops classes
(``COCO.get_cat_ids`` ignores unknown names); an image listed in the file but
missing on disk is found when the sampler first draws it (hours into a COCO
run), and boxes it cannot use (no width, NaN coordinates, outside the image)
are dropped without a word.  This subclass fails early with the file and the
expectation named, checks every image file at start, and counts the dropped
boxes in one warning.
"""
import logging
import math
import os.path as osp
from collections import Counter
from functools import partial

from mmdet.datasets import CocoDataset as MMDetCocoDataset
from mmdet.datasets.api_wrappers import COCO
from mmengine.logging import print_log

from mmkd.registry import DATASETS
from mmkd.utils.errors import (
    DataError,
    check_dir,
    check_file,
    check_files_exist,
)


class CheckedCOCO(COCO):
    """pycocotools' COCO API that checks the file's structure and classes."""

    def __init__(self, annotation_file, classes=None, source=None):
        source = source or annotation_file
        try:
            super().__init__(annotation_file)
        except ValueError as e:  # json.JSONDecodeError
            raise DataError(f'{source}: not a valid JSON file ({e})') from e
        for key in ('images', 'categories'):
            if key not in self.dataset:
                raise DataError(
                    f'{source}: COCO instances JSON without "{key}" (has '
                    f'{sorted(self.dataset)}); expected "images", '
                    '"annotations" and "categories"')
        if classes is not None:
            names = [c['name'] for c in self.dataset['categories']]
            missing = [c for c in classes if c not in names]
            if missing:
                raise DataError(
                    f'{source}: the config\'s classes {list(classes)} do not '
                    f'match the file\'s categories {names} (missing: '
                    f'{missing}); set metainfo=dict(classes=...) to the data')


@DATASETS.register_module()
class CocoDataset(MMDetCocoDataset):
    """mmdet's ``CocoDataset`` that checks its inputs (see module doc)."""

    def load_data_list(self):
        if self.data_root:
            check_dir(self.data_root, 'data root')
        check_file(self.ann_file, 'annotation file')
        img_dir = self.data_prefix.get('img')
        if img_dir and not osp.isdir(img_dir):
            raise DataError(f'image directory {img_dir!r} (data_prefix.img) '
                            f'does not exist; annotations: {self.ann_file}')
        self.COCOAPI = partial(CheckedCOCO, classes=self.metainfo['classes'],
                               source=self.ann_file)
        self._dropped = Counter()
        self._dropped_example = None
        data_list = super().load_data_list()
        if not data_list:
            raise DataError(f'{self.ann_file} lists no image: a data set '
                            'needs at least one (an unlabelled set too)')
        check_files_exist([d['img_path'] for d in data_list], 'images',
                          self.ann_file)
        if self._dropped:
            reasons = ', '.join(f'{n} {why}' for why, n in
                                self._dropped.most_common())
            print_log(f'{self.ann_file}: {sum(self._dropped.values())} '
                      f'annotations dropped ({reasons}; e.g. annotation id '
                      f'{self._dropped_example})', logger='current',
                      level=logging.WARNING)
        return data_list

    def filter_data(self):
        kept = super().filter_data()
        if not kept:
            raise DataError(
                f'{self.ann_file}: no image is left after filter_cfg '
                f'{dict(self.filter_cfg or {})} (images without a usable box '
                'are dropped from a labelled set)')
        return kept

    def parse_data_info(self, raw_data_info):
        """mmdet's, counting the boxes it drops and why."""
        img = raw_data_info['raw_img_info']
        for ann in raw_data_info['raw_ann_info']:
            if ann.get('ignore', False):
                continue
            why = _unusable(ann, img['width'], img['height'])
            if why:
                self._dropped[why] += 1
                if self._dropped_example is None:
                    self._dropped_example = ann.get('id')
        return super().parse_data_info(raw_data_info)


def _unusable(ann, width, height):
    """Why mmdet's ``parse_data_info`` drops this annotation, or None."""
    try:
        x1, y1, w, h = (float(v) for v in ann['bbox'])
        area = float(ann.get('area', w * h))
    except (TypeError, ValueError, KeyError):
        return 'without a 4-number bbox'
    if not all(math.isfinite(v) for v in (x1, y1, w, h, area)):
        return 'with NaN or infinite coordinates'
    if area <= 0 or w < 1 or h < 1:
        return 'with a width or height below 1 px or no area'
    inter_w = max(0, min(x1 + w, width) - max(x1, 0))
    inter_h = max(0, min(y1 + h, height) - max(y1, 0))
    if inter_w * inter_h == 0:
        return 'outside their image'
    return None
