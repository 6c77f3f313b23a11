"""Medical segmentation metrics of 3D volumes: Dice, Jaccard, HD95 and ASD,
in voxels (as the CBCT papers report them) and in millimetres (spacing from
the NIfTI header, ``data_sample.spacing``).

The surface distances are MONAI's (``compute_hausdorff_distance``,
``compute_average_surface_distance``). What this module adds is the
bookkeeping the papers' evaluation gets wrong: RAIL's ``test_util.py`` scores
an empty prediction (0, 0, 0, 0), i.e. HD95 = ASD = 0, the best possible
distance; here such a volume gets Dice = Jaccard = 0 and no distance (it is
left out of the HD95/ASD means and counted as ``empty``), a volume with
foreground predicted where none is labelled gets Dice = Jaccard = 0 and is
counted as ``spurious``, and every volume's scores are logged by name so
that a mean over fewer volumes than the data set says which ones.
"""
import os
import warnings
from collections import OrderedDict

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmkd.registry import METRICS


def as_numpy(array) -> np.ndarray:
    """A prediction or label as a numpy array, from wherever it lives:
    the data preprocessor moves ``gt_seg_map`` to the run's device, and
    ``np.asarray`` refuses CUDA tensors."""
    if isinstance(array, torch.Tensor):
        return array.detach().cpu().numpy()
    return np.asarray(array)


def surface_distances(pred, gt, spacing=None, directed_asd=True):
    """HD95 and ASD between two non-empty boolean volumes.

    ``HD95``: symmetric 95th-percentile Hausdorff distance (the larger of
    the two directed percentiles, as medpy's ``hd95``). ``ASD``: mean
    distance from the prediction's surface to the label's (medpy's ``asd``,
    directed), or the symmetric mean (medpy's ``assd``) with
    ``directed_asd=False``. Units: voxels, or millimetres with ``spacing``.
    """
    from monai.metrics import (
        compute_average_surface_distance,
        compute_hausdorff_distance,
    )
    p = torch.as_tensor(np.asarray(pred, bool))[None, None]
    g = torch.as_tensor(np.asarray(gt, bool))[None, None]
    kw = dict(include_background=True, spacing=spacing)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # MONAI warns on empty inputs
        hd = compute_hausdorff_distance(p, g, percentile=95, **kw)
        asd = compute_average_surface_distance(p, g,
                                               symmetric=not directed_asd,
                                               **kw)
    return float(hd), float(asd)


@METRICS.register_module()
class VolumeSegMetric(BaseMetric):
    """Per-volume Dice, Jaccard, HD95 and ASD of each foreground class,
    averaged over volumes, in voxels and (``…_mm``) in millimetres.

    A class absent from both prediction and label is skipped for that
    volume. A labelled class that the prediction misses entirely scores
    Dice = Jaccard = 0, and counts in ``empty`` instead of scoring a
    distance (an empty prediction has no surface; its distance is not 0);
    a class predicted where none is labelled scores Dice = Jaccard = 0 and
    counts in ``spurious`` (no label surface: no distance either). Each
    volume's scores are logged, one line per volume and class.

    Args:
        num_classes: classes, background included.
        distances: compute HD95 / ASD (surface distances cost far more than
            overlap on large volumes; off for a quick validation).
        directed_asd: ASD from prediction to label (medpy's ``asd``, what
            the CBCT papers report); False for the symmetric mean.
    """
    default_prefix = 'cbct'

    def __init__(self, num_classes=2, distances=True, directed_asd=True,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.distances = distances
        self.directed_asd = directed_asd

    def process(self, data_batch, data_samples):
        # one result per volume (its rows, one per class present):
        # mmengine's collect_results keeps as many results as the data set
        # has samples, across ranks and on one
        for sample in data_samples:
            self.results.append(self.volume_rows(sample))
            case = sample.get('img_path') or f'volume {len(self.results)}'
            for row in self.results[-1]:
                row['case'] = os.path.basename(str(case))

    def volume_rows(self, sample) -> list:
        pred = as_numpy(sample['pred_seg_map'])
        gt = as_numpy(sample['gt_seg_map'])
        spacing = sample.get('spacing')
        rows = []
        for c in range(1, self.num_classes):
            p, g = pred == c, gt == c
            if not p.any() and not g.any():
                continue
            inter = np.logical_and(p, g).sum()
            row = dict(cls=c, Dice=2 * inter / (p.sum() + g.sum()),
                       Jaccard=inter / np.logical_or(p, g).sum(),
                       empty=float(g.any() and not p.any()),
                       spurious=float(p.any() and not g.any()))
            if self.distances and p.any() and g.any():
                row['HD95'], row['ASD'] = surface_distances(
                    p, g, None, self.directed_asd)
                if spacing is not None:
                    row['HD95_mm'], row['ASD_mm'] = surface_distances(
                        p, g, tuple(spacing), self.directed_asd)
            rows.append(row)
        return rows

    def compute_metrics(self, results):
        results = [row for rows in results for row in rows]
        out = OrderedDict()
        for key in ('Dice', 'Jaccard'):
            out[key] = float(np.mean([r[key] for r in results]) * 100)
        if self.distances:
            for key in ('HD95', 'ASD', 'HD95_mm', 'ASD_mm'):
                vals = [r[key] for r in results if key in r]
                out[key] = float(np.mean(vals)) if vals else float('nan')
        out['empty'] = int(sum(r['empty'] for r in results))
        out['spurious'] = int(sum(r['spurious'] for r in results))
        logger = MMLogger.get_current_instance()
        for r in results:
            logger.info(f"{r['case']} class {r['cls']}: " + self.case_line(r))
        return out

    @staticmethod
    def case_line(row) -> str:
        if row['empty']:
            return 'labelled, nothing predicted (Dice 0, no distance)'
        if row['spurious']:
            return 'predicted, nothing labelled (Dice 0, no distance)'
        scores = [f"{k} {row[k] * 100:.2f}" for k in ('Dice', 'Jaccard')]
        scores += [f'{k} {row[k]:.2f}' for k in
                   ('HD95', 'ASD', 'HD95_mm', 'ASD_mm') if k in row]
        return ', '.join(scores)
