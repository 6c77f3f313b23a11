"""Volume transforms: NIfTI loading, MONAI dictionary transforms inside an
mmengine pipeline, and packing.

Volumes are kept as ``(X, Y, Z)`` arrays in ``results['img']`` and
``results['gt_seg_map']``; :class:`MonaiCompose` adds the channel axis MONAI
expects and removes it afterwards.
"""
import logging

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from mmkd.registry import TRANSFORMS
from mmkd.utils.errors import DataError


@TRANSFORMS.register_module()
class LoadNiftiVolume(BaseTransform):
    """Load ``img_path`` (and ``seg_map_path``) with nibabel.

    Args:
        with_label: load the label volume when the sample has one.
        binary_label: map every non-zero label to 1 (tooth vs. background).
        num_classes: with ``binary_label=False``, labels must be integers in
            ``[0, num_classes)``; otherwise an error names the file and the
            values.
        skip_bad: return ``None`` for an unreadable (e.g. truncated) image
            -- the dataset then draws another -- with a warning naming it
            and counting the skips (unlabelled lists); else an error.
    """

    def __init__(self, with_label=True, binary_label=True, num_classes=None,
                 skip_bad=False):
        self.with_label = with_label
        self.binary_label = binary_label
        self.num_classes = num_classes
        self.skip_bad = skip_bad
        self.num_skipped = 0

    def transform(self, results):
        import nibabel as nib
        try:
            nii = nib.load(results['img_path'])
            img = np.asarray(nii.dataobj, dtype=np.float32)
        except Exception as e:
            msg = (f'{results["img_path"]}: cannot read the NIfTI volume '
                   f'({type(e).__name__}: {e})')
            if self.skip_bad:
                self.num_skipped += 1
                print_log(f'skipped {msg} ({self.num_skipped} volume(s) '
                          'skipped so far by this loader)', logger='current',
                          level=logging.WARNING)
                return None
            raise DataError(msg) from e
        if img.ndim != 3:
            raise DataError(f'{results["img_path"]}: expected a 3D volume, '
                            f'got shape {img.shape}')
        results['img'] = img
        results['ori_shape'] = img.shape
        zooms = nii.header.get_zooms()[:3]
        results['spacing'] = tuple(float(s) for s in zooms)
        if self.with_label and results.get('seg_map_path'):
            path = results['seg_map_path']
            try:
                lab = np.asarray(nib.load(path).dataobj)
            except Exception as e:
                raise DataError(f'{path}: cannot read the NIfTI label volume '
                                f'({type(e).__name__}: {e})') from e
            if lab.shape != img.shape:
                raise DataError(
                    f'{path}: label shape {lab.shape} '
                    f'does not match image {results["img_path"]} shape '
                    f'{img.shape}')
            results['gt_seg_map'] = self.check_label(lab, path).astype(
                np.int64)
        return results

    def check_label(self, lab, path):
        """The label volume as class indices, or an error naming ``path``
        and the values that are not classes."""
        values = np.unique(lab)
        bad = values[(values < 0) | (values != np.round(values))]
        if not self.binary_label and self.num_classes is not None:
            bad = np.union1d(bad, values[values >= self.num_classes])
        if len(bad):
            expected = ('non-negative integers' if self.binary_label
                        or self.num_classes is None else
                        f'integers in [0, {self.num_classes})')
            raise DataError(f'{path}: label values {bad[:10].tolist()} are '
                            f'not classes (expected {expected})')
        return lab > 0 if self.binary_label else lab


@TRANSFORMS.register_module()
class MonaiCompose(BaseTransform):
    """Run MONAI dictionary transforms (``monai.transforms.*d``) by config.

    Example::

        dict(type='MonaiCompose', transforms=[
            dict(type='ScaleIntensityRanged', keys=['img'], a_min=500,
                 a_max=2500, b_min=0.0, b_max=1.0, clip=True),
            dict(type='RandSpatialCropd', keys=['img', 'gt_seg_map'],
                 roi_size=(112, 112, 80), random_size=False)])

    Every call re-seeds the MONAI transforms from numpy's global generator,
    so a sample's random crop, flip or rotation follows the seed it is
    loaded under: :class:`~mmkd.datasets.SemiDataset` seeds each sample by
    its position in the sampler's stream, which keeps ``--resume`` (the
    sampler skips ahead without loading) exact; elsewhere mmengine seeds
    each dataloader worker.  (Seeding once per process, MONAI's own way,
    ties a sample's augmentation to how many samples its worker loaded
    before.)
    """

    def __init__(self, transforms, keys=('img', 'gt_seg_map')):
        import monai.transforms as mt
        built = []
        for cfg in transforms:
            cfg = dict(cfg)
            name = cfg.pop('type')
            if not hasattr(mt, name):
                raise KeyError(f'MonaiCompose: monai.transforms has no '
                               f'{name!r}')
            built.append(getattr(mt, name)(**cfg))
        self.compose = mt.Compose(built)
        self.keys = keys

    def transform(self, results):
        self.compose.set_random_state(
            seed=int(np.random.randint(0, 2**31 - 1)))
        data = {k: v for k, v in results.items() if k not in self.keys}
        for k in self.keys:
            if k in results:
                data[k] = np.asarray(results[k])[None]
        out = self.compose(data)
        if isinstance(out, list):  # Rand*Cropd with num_samples
            if len(out) != 1:
                raise ValueError('MonaiCompose keeps one sample: set '
                                 f'num_samples=1 (got {len(out)} samples)')
            out = out[0]
        for k in self.keys:
            if k in out:
                v = out[k]
                v = v.as_tensor() if hasattr(v, 'as_tensor') else v
                v = v.numpy() if isinstance(v, torch.Tensor) else v
                results[k] = np.ascontiguousarray(v[0])
        results['img_shape'] = results['img'].shape
        return results


@TRANSFORMS.register_module()
class PackVolumeInputs(BaseTransform):
    """Pack ``img`` as a ``(1, X, Y, Z)`` float tensor and the rest into a
    data sample (``gt_seg_map``: ``(X, Y, Z)`` long tensor)."""

    META_KEYS = ('img_path', 'seg_map_path', 'case', 'ori_shape', 'img_shape',
                 'spacing')

    def transform(self, results):
        img = torch.from_numpy(
            np.ascontiguousarray(results['img'], dtype=np.float32))[None]
        sample = BaseDataElement(metainfo={
            k: results[k] for k in self.META_KEYS if k in results})
        if 'gt_seg_map' in results:
            sample.gt_seg_map = torch.from_numpy(
                np.ascontiguousarray(results['gt_seg_map'])).long()
        return dict(inputs=img, data_samples=sample)
