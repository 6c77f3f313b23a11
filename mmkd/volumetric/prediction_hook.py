"""Writing 3D test predictions: label volumes as NIfTI with the input's
affine and spacing (``tools/test.py --out-dir``), and PNGs of axial and
coronal slices with label and prediction drawn over the image
(``tools/test.py --show-dir``)."""
import os
import os.path as osp

import numpy as np
from mmengine.hooks import Hook

from mmkd.registry import HOOKS

from .metrics import as_numpy

LABEL_RGB = np.array([60, 200, 60], np.float32)  # green: label
PRED_RGB = np.array([230, 50, 50], np.float32)  # red: prediction


def slice_overlay(image, label, pred, alpha=0.45):
    """RGB ``uint8`` of a 2D slice (``image`` in [0, 1]) with the label in
    green, the prediction in red (both blended where they overlap)."""
    grey = np.clip(image, 0, 1)[..., None].repeat(3, -1) * 255
    out = grey.copy()
    for mask, rgb in ((label > 0, LABEL_RGB), (pred > 0, PRED_RGB)):
        out[mask] = (1 - alpha) * out[mask] + alpha * rgb
    return np.concatenate([grey, out], 1).round().astype(np.uint8)


def volume_picture(volume, label, pred):
    """Axial (fixed z) and coronal (fixed y) slices through the centre of
    the label (of the prediction if the label is empty), each as image |
    overlay, stacked."""
    fg = np.argwhere(label > 0) if (label > 0).any() else np.argwhere(
        pred > 0)
    centre = fg.mean(0).round().astype(int) if len(fg) else np.array(
        volume.shape) // 2
    axial = slice_overlay(volume[:, :, centre[2]], label[:, :, centre[2]],
                          pred[:, :, centre[2]])
    coronal = slice_overlay(volume[:, centre[1], :], label[:, centre[1], :],
                            pred[:, centre[1], :])
    width = max(axial.shape[1], coronal.shape[1])

    def pad(a):
        return np.pad(a, ((0, 4), (0, width - a.shape[1]), (0, 0)))

    return np.concatenate([pad(axial), pad(coronal)], 0)


@HOOKS.register_module()
class VolumePredictionHook(Hook):
    """After each test batch: ``out_dir`` -- ``<case>.nii.gz`` label volumes
    (uint8) with the input file's affine and header spacing; ``draw`` --
    ``<work_dir>/<test_out_dir>/<case>.png`` slice pictures.

    Args:
        draw / test_out_dir: pictures (``tools/test.py --show-dir`` sets
            both), in the work dir.
        out_dir: NIfTI predictions (``tools/test.py --out-dir``); relative
            paths are inside the work dir.
    """
    priority = 'LOW'

    def __init__(self, draw=False, test_out_dir='vis', out_dir=None,
                 wait_time=0):  # wait_time: set by test.py, no window here
        self.draw = draw
        self.test_out_dir = test_out_dir
        self.out_dir = out_dir

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None):
        if not (self.draw or self.out_dir):
            return
        import nibabel as nib
        for i, sample in enumerate(outputs):
            pred = as_numpy(sample.pred_seg_map).astype(np.uint8)
            case = sample.metainfo.get('case') or osp.basename(
                sample.img_path).split('.')[0]
            if self.out_dir:
                out = osp.join(runner.work_dir, self.out_dir)
                os.makedirs(out, exist_ok=True)
                src = nib.load(sample.img_path)
                header = src.header.copy()
                header.set_data_dtype(np.uint8)
                nib.save(nib.Nifti1Image(pred, src.affine, header),
                         osp.join(out, case + '.nii.gz'))
            if self.draw:
                import cv2
                volume = as_numpy(data_batch['inputs'][i])[0]
                label = as_numpy(sample.gt_seg_map) if 'gt_seg_map' in \
                    sample else np.zeros_like(pred)
                out = osp.join(runner.work_dir, self.test_out_dir)
                os.makedirs(out, exist_ok=True)
                picture = volume_picture(volume, label, pred)
                cv2.imwrite(osp.join(out, case + '.png'), picture[..., ::-1])
