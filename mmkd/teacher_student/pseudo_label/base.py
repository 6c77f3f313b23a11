"""What every pseudo-labeller is: teacher predictions in, ``(labels,
weights)`` out -- for boxes and for class-probability maps alike -- and,
when it adapts to the teacher's scores, the adaptation it owns."""
from typing import Optional, Tuple

from mmengine.structures import InstanceData
from torch import Tensor, nn


class PseudoLabeller(nn.Module):
    """Base of the pseudo-labellers (``TASK_UTILS``).

    ``labeller(preds)``:

    * instances (``InstanceData`` with ``scores`` and ``labels``):
      ``(kept, weights)`` -- the pseudo boxes and one loss weight each;
      :meth:`ignored` gives the ones that are neither kept nor background
      (ignore regions);
    * a class-probability map ``(C, ...)``: ``(labels, weights)`` -- the
      arg-max map with ``ignore_index`` where no pseudo-label is kept, and
      a weight per pixel (0 there).

    An adaptive labeller (``adaptive = True``) learns from scores: the
    model gives it the teacher's scores each step (:meth:`observe`, from
    the unlabelled or the labelled batch as the model's
    ``threshold_scores`` says) and asks it to recompute its thresholds when
    due (:meth:`maybe_update`); its state is in module buffers (checkpoints,
    ``--resume``, the same on every rank). A fixed labeller ignores both.
    """
    #: whether :meth:`observe` changes what the labeller keeps
    adaptive = False
    #: the classes an adaptive labeller counts (checked against the head)
    num_classes: Optional[int] = None

    def __init__(self, ignore_index: int = 255):
        super().__init__()
        self.ignore_index = ignore_index

    def forward(self, preds) -> Tuple:
        raise NotImplementedError

    def ignored(self, preds: InstanceData) -> InstanceData:
        """The instances that become ignore regions (none by default:
        below the threshold is background)."""
        return preds[:0]

    def observe(self, scores: Tensor, labels: Tensor):
        """Scores of the teacher's predictions of classes ``labels``."""

    def maybe_update(self, iteration: int):
        """Recompute the thresholds if ``iteration`` is due."""
