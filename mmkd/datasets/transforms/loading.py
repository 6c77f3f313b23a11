import logging

import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile
from mmengine import fileio
from mmengine.logging import print_log
from mmseg.datasets.transforms import LoadAnnotations as MMSegLoadAnnotations

from mmkd.registry import TRANSFORMS
from mmkd.utils.errors import DataError


@TRANSFORMS.register_module()
class LoadImageFromFile(MMCVLoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` whose failures name the file and say what
    is wrong (missing vs. not decodable).

    Args:
        skip_bad (bool): return ``None`` (the dataset then draws another
            sample) instead of raising, for unlabelled data, where a bad
            image should cost one sample, not the run.  Every skip is a
            warning in the training log with the file, why, and how many
            this transform (in its dataloader worker) has skipped so far
            (``num_skipped``).
    """

    def __init__(self, *args, skip_bad=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.skip_bad = skip_bad
        self.num_skipped = 0

    def _fail(self, msg):
        if self.skip_bad:
            self.num_skipped += 1
            print_log(f'skipped {msg} ({self.num_skipped} image(s) skipped '
                      'so far by this loader)', logger='current',
                      level=logging.WARNING)
            return None
        raise DataError(msg)

    def transform(self, results):
        filename = results['img_path']
        try:
            img_bytes = fileio.get(filename, backend_args=self.backend_args)
        except FileNotFoundError:
            return self._fail(f'{filename}: image file not found')
        try:
            img = mmcv.imfrombytes(img_bytes, flag=self.color_type,
                                   backend=self.imdecode_backend)
        except Exception as e:  # decoders raise various types
            img = None
            err = f' ({e})'
        else:
            err = ''
        if img is None:
            return self._fail(f'{filename}: cannot be decoded as an image '
                              f'(corrupt or not an image){err}')
        if self.to_float32:
            img = img.astype('float32')
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadSegAnnotations(MMSegLoadAnnotations):
    """mmseg's ``LoadAnnotations`` (a label PNG of train ids) that rejects
    what would train silently on wrong data, with the file named:

    * ids outside ``0 … num_classes − 1`` and ``ignore_index`` (e.g. raw
      Cityscapes ids instead of ``labelTrainIds``);
    * a label whose size differs from its image's (as loaded).

    ``num_classes`` defaults to the sample's (``mmkd.CityscapesDataset``
    adds it), else the check of ids is skipped.
    """

    def __init__(self, *args, num_classes=None, ignore_index=255, **kwargs):
        super().__init__(*args, **kwargs)
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def transform(self, results):
        results = super().transform(results)
        label = results['gt_seg_map']
        path = results.get('seg_map_path')
        # the image as loaded (a test pipeline resizes it before the label)
        shape = results.get('ori_shape')
        if shape is not None and tuple(label.shape[:2]) != tuple(shape[:2]):
            raise DataError(
                f'{path}: label size {label.shape[1]}x{label.shape[0]} '
                f"differs from its image {results.get('img_path')} "
                f'({shape[1]}x{shape[0]})')
        num_classes = self.num_classes or results.get('num_classes')
        if num_classes:
            ids = np.unique(label)
            bad = ids[(ids >= num_classes) & (ids != self.ignore_index)]
            if len(bad):
                raise DataError(
                    f'{path}: label ids {bad.tolist()} are not train ids '
                    f'(0-{num_classes - 1}, {self.ignore_index} = ignore)')
        return results
