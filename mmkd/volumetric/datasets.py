import logging
import os
import os.path as osp

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mmkd.registry import DATASETS
from mmkd.utils.errors import DataError, check_dir, check_file


@DATASETS.register_module()
class CBCTDataset(BaseDataset):
    """Cone-beam CT volumes in NIfTI (``.nii`` / ``.nii.gz``).

    ``data_root/<data_prefix.img_path>/<case><suffix>`` with an optional label
    volume of the same name under ``data_prefix.seg_map_path``; ``ann_file``
    lists the cases, one a line.  Unlabelled scans may instead be a plain
    folder: with ``with_label=False`` and no ``ann_file`` every
    ``*<suffix>`` file of the image directory is a case (sorted by name).
    Image and label shapes and affines are checked from the headers when
    the dataset is built (nothing is decoded): a mismatch is an error naming
    both files. An unreadable image header is an error, in an unlabelled
    list (``with_label=False``) a warning: the case is left out and counted
    (``num_skipped``).

    Args:
        with_label: load labels (False for unlabelled lists).
        suffix: file suffix of images and labels.
    """
    METAINFO = dict(classes=('background', 'tooth'))

    def __init__(self, *args, with_label=True, suffix='.nii.gz', **kwargs):
        self.with_label = with_label
        self.suffix = suffix
        self.num_skipped = 0
        super().__init__(*args, **kwargs)

    def load_data_list(self):
        import nibabel as nib
        if self.data_root:
            check_dir(self.data_root, 'data root')
        img_dir = self.data_prefix.get('img_path', '')
        lab_dir = self.data_prefix.get('seg_map_path', '')
        check_dir(img_dir, 'image directory (data_prefix.img_path)')
        cases = self.list_cases(img_dir)
        source = self.ann_file or img_dir
        data_list = []
        for case in cases:
            img_path = osp.join(img_dir, case + self.suffix)
            check_file(img_path, f'image of case {case!r}',
                       hint=f'listed in {source}')
            info = dict(img_path=img_path, case=case)
            try:
                img_nii = nib.load(img_path)
            except Exception as e:
                msg = f'{img_path}: not a readable NIfTI file ({e})'
                if self.with_label:
                    raise DataError(msg) from e
                self.num_skipped += 1
                print_log(f'skipped {msg} ({self.num_skipped} unlabelled '
                          f'case(s) of {source} skipped)',
                          logger='current', level=logging.WARNING)
                continue
            img_hdr = img_nii.header
            info['ori_shape'] = tuple(int(s) for s in img_hdr.get_data_shape())
            info['spacing'] = tuple(float(s) for s in img_hdr.get_zooms()[:3])
            if self.with_label:
                seg_path = osp.join(lab_dir, case + self.suffix)
                check_file(seg_path, f'label of case {case!r}',
                           hint=f'listed in {self.ann_file}; use '
                           'with_label=False for unlabelled cases')
                try:
                    lab_nii = nib.load(seg_path)
                except Exception as e:
                    raise DataError(f'{seg_path}: not a readable NIfTI file '
                                    f'({e})') from e
                lab_shape = tuple(
                    int(s) for s in lab_nii.header.get_data_shape())
                if lab_shape != info['ori_shape']:
                    raise DataError(
                        f'{seg_path}: label shape {lab_shape} does not match '
                        f'image {img_path} shape {info["ori_shape"]}')
                if not np.allclose(lab_nii.affine, img_nii.affine,
                                   atol=1e-3):
                    raise DataError(
                        f'{seg_path}: label affine does not match image '
                        f'{img_path} (voxel grids differ: '
                        f'{np.round(lab_nii.affine, 3).tolist()} vs '
                        f'{np.round(img_nii.affine, 3).tolist()})')
                info['seg_map_path'] = seg_path
            data_list.append(info)
        if not data_list:
            raise DataError(f'{source}: none of its cases is readable')
        return data_list

    def list_cases(self, img_dir):
        """The case names: the lines of ``ann_file``, or -- unlabelled, no
        ``ann_file`` -- the ``*<suffix>`` files of ``img_dir``."""
        if not self.ann_file:
            if self.with_label:
                raise DataError(f'{img_dir}: labelled CBCT volumes need a '
                                'case list (ann_file); only unlabelled ones '
                                '(with_label=False) may be a plain folder')
            cases = sorted(name[:-len(self.suffix)]
                           for name in os.listdir(img_dir)
                           if name.endswith(self.suffix))
            if not cases:
                raise DataError(f'{img_dir}: no *{self.suffix} volumes in '
                                'this folder of unlabelled scans')
            return cases
        check_file(self.ann_file, 'case list (ann_file)')
        with open(self.ann_file) as f:
            cases = [line.strip() for line in f if line.strip()]
        if not cases:
            raise DataError(f'{self.ann_file}: no cases listed')
        return cases
