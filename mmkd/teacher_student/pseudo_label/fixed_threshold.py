import torch
from mmengine.structures import InstanceData

from mmkd.registry import TASK_UTILS


@TASK_UTILS.register_module()
class FixedThreshold:
    """Keep teacher predictions whose score reaches ``score_thr``.

    Works on instances (``InstanceData`` with ``scores``: the kept
    instances) and on class-probability maps (``(C, ...)`` tensor: the
    arg-max label map with ``ignore_index`` where the top probability is
    below the threshold).  A per-class threshold is a sequence indexed by
    label.
    """

    def __init__(self, score_thr=0.9, ignore_index=255):
        self.score_thr = score_thr
        self.ignore_index = ignore_index

    def _thresholds(self, labels):
        if isinstance(self.score_thr, (int, float)):
            return torch.full(labels.shape, float(self.score_thr),
                              device=labels.device)
        thr = torch.as_tensor(self.score_thr, dtype=torch.float32,
                              device=labels.device)
        return thr[labels]

    def __call__(self, preds):
        if isinstance(preds, InstanceData):
            keep = preds.scores >= self._thresholds(preds.labels)
            return preds[keep]
        probs = preds
        score, label = probs.max(0)
        label = label.clone()
        label[score < self._thresholds(label)] = self.ignore_index
        return label

    def ignored(self, preds: InstanceData) -> InstanceData:
        """No ignore regions: below the threshold is background."""
        return preds[:0]
