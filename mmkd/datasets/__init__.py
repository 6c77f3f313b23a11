from .coco_split import load_coco_json, split_coco, write_splits

__all__ = ['load_coco_json', 'split_coco', 'write_splits']
