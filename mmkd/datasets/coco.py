"""COCO detection dataset with input checks.

mmdet's ``CocoDataset`` accepts a missing or malformed annotation file with a
deep traceback (or, for a JSON without ``images``, with zero images), and a
class list that does not match the file's categories silently drops classes
(``COCO.get_cat_ids`` ignores unknown names).  This subclass fails early with
the file and the expectation named.
"""
import os.path as osp
from functools import partial

from mmdet.datasets import CocoDataset as MMDetCocoDataset
from mmdet.datasets.api_wrappers import COCO

from mmkd.registry import DATASETS
from mmkd.utils.errors import DataError, check_dir, check_file


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
        return super().load_data_list()
