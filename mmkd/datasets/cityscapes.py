"""Cityscapes dataset with input checks (mmseg's asserts with a bare path)."""
import os.path as osp

from mmseg.datasets import CityscapesDataset as MMSegCityscapesDataset

from mmkd.registry import DATASETS
from mmkd.utils.errors import DataError, check_dir, check_file


@DATASETS.register_module()
class CityscapesDataset(MMSegCityscapesDataset):
    """mmseg's ``CityscapesDataset`` (``*_leftImg8bit.png`` images,
    ``*_gtFine_labelTrainIds.png`` labels, 19 classes, 255 ignore) that names
    the missing root, split file or label file instead of asserting.

    ``ann_file`` may be a split list (one ``city/city_seq_frame`` a line), as
    the semi-supervised splits written by ``tools/make_demo_data.py``.
    """

    def load_data_list(self):
        if self.data_root:
            check_dir(self.data_root, 'data root')
        if self.ann_file:
            check_file(self.ann_file, 'split list (ann_file)')
        img_dir = self.data_prefix.get('img_path')
        check_dir(img_dir, 'image directory (data_prefix.img_path)')
        data_list = super().load_data_list()
        if not data_list:
            raise DataError(f'no *{self.img_suffix} images found in '
                            f'{img_dir!r} (ann_file={self.ann_file!r})')
        missing = [d for d in data_list
                   if not osp.isfile(d['img_path']) or (
                       'seg_map_path' in d
                       and not osp.isfile(d['seg_map_path']))]
        if missing:
            d = missing[0]
            path = d['img_path'] if not osp.isfile(d['img_path']) \
                else d['seg_map_path']
            raise DataError(f'{len(missing)} of {len(data_list)} samples lack '
                            f'their image or label file, e.g. {path!r}')
        for d in data_list:  # for LoadSegAnnotations' check of label ids
            d['num_classes'] = len(self.metainfo['classes'])
        return data_list
