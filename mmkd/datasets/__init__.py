from .cityscapes import CityscapesDataset
from .coco import CheckedCOCO, CocoDataset
from .coco_split import load_coco_json, split_coco, write_splits
from .transforms import *  # noqa: F401,F403

__all__ = [
    'CityscapesDataset', 'CheckedCOCO', 'CocoDataset', 'load_coco_json',
    'split_coco', 'write_splits'
]
