from collections import OrderedDict

import numpy as np
from mmengine.evaluator import BaseMetric

from mmkd.registry import METRICS


@METRICS.register_module()
class VolumeDiceMetric(BaseMetric):
    """Per-volume Dice and Jaccard of each foreground class, averaged over
    volumes (as the CBCT papers report them), in percent.

    An empty prediction of a non-empty class scores Dice 0; a class absent
    from both prediction and label is skipped for that volume.
    """
    default_prefix = 'cbct'

    def __init__(self, num_classes=2, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            pred = np.asarray(sample['pred_seg_map'])
            gt = np.asarray(sample['gt_seg_map'])
            row = []
            for c in range(1, self.num_classes):
                p, g = pred == c, gt == c
                if not p.any() and not g.any():
                    row.append((np.nan, np.nan))
                    continue
                inter = np.logical_and(p, g).sum()
                dice = 2 * inter / (p.sum() + g.sum())
                jac = inter / np.logical_or(p, g).sum()
                row.append((dice, jac))
            self.results.append(row)

    def compute_metrics(self, results):
        arr = np.asarray(results, dtype=np.float64)  # (volumes, classes, 2)
        out = OrderedDict()
        out['Dice'] = float(np.nanmean(arr[..., 0]) * 100)
        out['Jaccard'] = float(np.nanmean(arr[..., 1]) * 100)
        return out
