import torch
from mmengine.structures import InstanceData

from mmkd.registry import TASK_UTILS

from .base import PseudoLabeller


@TASK_UTILS.register_module()
class FixedThreshold(PseudoLabeller):
    """Keep teacher predictions whose score reaches ``score_thr``, weight 1.

    Works on instances (``InstanceData`` with ``scores``: the kept
    instances) and on class-probability maps (``(C, ...)`` tensor: the
    arg-max label map with ``ignore_index`` where the top probability is
    below the threshold); see :class:`.PseudoLabeller`.  A per-class
    threshold is a sequence indexed by label.
    """

    def __init__(self, score_thr=0.9, ignore_index=255):
        super().__init__(ignore_index)
        self.score_thr = score_thr

    def _thresholds(self, labels):
        if isinstance(self.score_thr, (int, float)):
            return torch.full(labels.shape, float(self.score_thr),
                              device=labels.device)
        thr = torch.as_tensor(self.score_thr, dtype=torch.float32,
                              device=labels.device)
        return thr[labels]

    def forward(self, preds):
        if isinstance(preds, InstanceData):
            kept = preds[preds.scores >= self._thresholds(preds.labels)]
            return kept, kept.scores.new_ones(len(kept))
        score, label = preds.max(0)
        keep = score >= self._thresholds(label)
        return label.masked_fill(~keep, self.ignore_index), keep.to(score)
