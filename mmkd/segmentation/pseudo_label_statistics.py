"""How good are the pseudo-label maps?  Per class, the share of pixels
labelled (coverage) and, when the unlabelled images come with their hidden
ground truth (the weak view's ``gt_sem_seg``, never used by a loss), the
pseudo-labels' pixel accuracy; and pictures of them
(:class:`~mmkd.engine.hooks.PseudoLabelStatsHook` asks)."""
from collections import defaultdict
from typing import Dict, List

import numpy as np
import torch

from mmkd.registry import TASK_UTILS


@TASK_UTILS.register_module()
class MapPseudoLabelStatistics:
    """Statistics of pseudo-label maps (``SegDataSample`` targets of the
    teacher's view): :meth:`records_of` one step's targets,
    :meth:`summarise` records, :meth:`draw` them.

    Args:
        classes: the data set's class names.
        ignore_index: the label of pixels without a pseudo-label.
        palette: class colours of the pictures (default: random, fixed).
    """

    def __init__(self, classes, ignore_index=255, palette=None):
        self.classes = tuple(classes)
        self.ignore_index = ignore_index
        self.palette = palette

    def records_of(self, targets) -> List[Dict]:
        """Per image, per class: pixels labelled, and of those, pixels equal
        to the hidden ground truth (when known).

        Counted on the device without a size-dependent step (``bincount``
        and boolean indexing wait for the GPU) and moved to the host in one
        transfer for the batch."""
        c = len(self.classes)
        rows, pixels = [], []
        for target in targets:
            label = target.gt_sem_seg.data[0].flatten()
            pixels.append(label.numel())
            valid = (label != self.ignore_index) & (label >= 0) & (label < c)
            counts = [_class_counts(label, valid, c)]
            hidden = target.get('hidden_sem_seg')
            if hidden is not None:
                gt = hidden.data[0].flatten().to(label.device)
                known = valid & (gt != self.ignore_index)
                counts += [_class_counts(label, known, c),
                           _class_counts(label, known & (label == gt), c)]
            rows.append(torch.stack(counts))
        host = torch.cat(rows).cpu().split([len(r) for r in rows]) \
            if rows else []
        records = []
        for n, counts in zip(pixels, host):
            record = dict(pixels=n, labelled=counts[0])
            if len(counts) == 3:
                record['checked'], record['correct'] = counts[1], counts[2]
            records.append(record)
        return records

    def draw(self, images, targets) -> List[np.ndarray]:
        """Per image: the image | its pseudo-labels in the class colours
        (ignored pixels black) | the hidden ground truth when known;
        enlarged up to 4x, to about 480 px per panel."""
        palette = np.asarray(
            self.palette if self.palette is not None
            else np.random.default_rng(0).integers(
                0, 256, (max(len(self.classes), 256), 3)), np.uint8)
        palette = np.concatenate([palette, np.zeros(
            (256 - len(palette), 3), np.uint8)]) if len(palette) < 256 \
            else palette[:256]
        palette[self.ignore_index] = 0

        def colour(label_map):
            return palette[label_map.cpu().numpy().clip(0, 255)]

        out = []
        for image, target in zip(images, targets):
            label = target.gt_sem_seg.data[0]
            h, w = image.shape[:2]
            panels = [image, colour(label[:h, :w])]
            hidden = target.get('hidden_sem_seg')
            if hidden is not None:
                panels.append(colour(hidden.data[0][:h, :w]))
            picture = np.concatenate(panels, axis=1)
            k = int(np.clip(480 // max(h, w), 1, 4))  # small crops larger
            out.append(picture.repeat(k, axis=0).repeat(k, axis=1))
        return out

    def summarise(self, records) -> Dict[str, float]:
        sums = defaultdict(int)
        for r in records:
            for key, value in r.items():
                sums[key] = sums[key] + value
        if not records:
            return {}
        pixels = max(int(sums['pixels']), 1)
        out = dict(coverage=float(sums['labelled'].sum()) / pixels)
        for c, name in enumerate(self.classes):
            out[f'{name}_coverage'] = float(sums['labelled'][c]) / pixels
        if 'checked' in sums:
            checked = sums['checked']
            out['accuracy'] = float(sums['correct'].sum()) / max(
                int(checked.sum()), 1)
            for c, name in enumerate(self.classes):
                if checked[c] > 0:
                    out[f'{name}_accuracy'] = float(
                        sums['correct'][c]) / float(checked[c])
        return out



def _class_counts(label: torch.Tensor, mask: torch.Tensor, num_classes: int
                  ) -> torch.Tensor:
    """Pixels of each class where ``mask`` holds (``bincount`` of
    ``label[mask]``, with no host synchronisation)."""
    label = label.long()
    index = torch.where(mask, label, torch.full_like(label, num_classes))
    counts = torch.zeros(num_classes + 1, dtype=torch.long,
                         device=label.device)
    return counts.index_add_(0, index, torch.ones_like(index))[:num_classes]
