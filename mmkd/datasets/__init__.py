from .cityscapes import CityscapesDataset
from .cityscapes_split import split_cityscapes, write_cityscapes_splits
from .coco import CheckedCOCO, CocoDataset
from .coco_split import load_coco_json, split_coco, write_splits
from .image_folder import UnlabeledImageFolder
from .samplers import SemiSampler
from .semi_dataset import SemiDataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'CityscapesDataset', 'CheckedCOCO', 'CocoDataset', 'load_coco_json',
    'split_coco', 'write_splits', 'SemiDataset', 'SemiSampler',
    'UnlabeledImageFolder', 'split_cityscapes', 'write_cityscapes_splits'
]
