"""Dynamic dual-threshold pseudo-labelling (after HSSDA, Liu et al.,
"Hierarchical Supervision and Shuffle Data Augmentation for 3D
Semi-Supervised Object Detection", CVPR 2023; here for 2D boxes and
pixels)."""
from typing import Tuple

import torch
from mmengine import dist
from mmengine.structures import InstanceData
from torch import Tensor

from mmkd.registry import TASK_UTILS

from .base import PseudoLabeller


def two_means_1d(scores: Tensor, valid: Tensor,
                 iters: int = 30) -> Tuple[Tensor, Tensor]:
    """Lloyd's 2-means on each row of ``scores`` (``(C, K)``, only entries
    where ``valid``), started from the row's minimum and maximum::

        m = (c_lo + c_hi) / 2
        c_lo = mean{s : s < m},  c_hi = mean{s : s ≥ m}    (until stable)

    Returns the centres ``(c_lo, c_hi)``, each ``(C,)``; a row without
    valid entries gets NaN, a row of equal scores ``c_lo = c_hi``.
    """
    inf = torch.tensor(float('inf'), device=scores.device)
    lo = torch.where(valid, scores, inf).min(1).values
    hi = torch.where(valid, scores, -inf).max(1).values
    count = valid.sum(1)
    for _ in range(iters):
        upper = valid & (scores >= ((lo + hi) / 2)[:, None])
        lower = valid & ~upper
        n_up, n_lo = upper.sum(1), lower.sum(1)
        new_hi = torch.where(n_up > 0, (scores * upper).sum(1) /
                             n_up.clamp(min=1), hi)
        new_lo = torch.where(n_lo > 0, (scores * lower).sum(1) /
                             n_lo.clamp(min=1), new_hi)
        if torch.equal(new_lo, lo) and torch.equal(new_hi, hi):
            break
        lo, hi = new_lo, new_hi
    nan = torch.full_like(lo, float('nan'))
    return torch.where(count > 0, lo, nan), torch.where(count > 0, hi, nan)


@TASK_UTILS.register_module()
class DynamicDualThreshold(PseudoLabeller):
    """Per-class dual thresholds ``τ_high(c) > τ_low(c)`` recomputed from the
    teacher's recent scores, and three tiers of pseudo-labels:

    * ``score ≥ τ_high(c)``: pseudo-label, weight 1;
    * ``τ_low(c) ≤ score < τ_high(c)``: pseudo-label, weight = score;
    * ``score < τ_low(c)``: ignored -- an ignore region for boxes
      (:meth:`ignored`), ``ignore_index`` for pixels; never background.

    Every ``update_interval`` iterations, per class with at least
    ``min_samples`` scores in its buffer (the last ``buffer_size`` scores
    :meth:`observe` was given), the thresholds become the two centres of the
    1-D 2-means of the buffer (:func:`two_means_1d`), optionally smoothed,
    ``τ ← m·τ + (1 − m)·τ_new`` (``momentum`` m); a class with fewer samples
    keeps its current (at first the default) thresholds.  The model decides
    whose scores the buffer holds (HSSDA: the teacher's predictions that
    match ground truth on labelled data; or the teacher's predictions on the
    unlabelled batch), see ``score_source`` of the semi-supervised models.

    Buffers, thresholds and sample counts are module buffers: they are in
    every checkpoint, restored by ``--resume`` and the same on every
    distributed rank (:meth:`observe` appends every rank's scores, so all
    ranks compute the same thresholds).

    Args:
        num_classes: number of classes (the model checks it against its
            head).
        update_interval: iterations between two recomputations.
        buffer_size: scores kept per class.
        min_samples: fewest scores a class needs for its own thresholds.
        default_high / default_low: thresholds of a class before that.
        momentum: smoothing of the thresholds (0: none).
        max_observed_per_class: at most this many scores of a class are
            taken from one :meth:`observe` call (random ones; pixels come by
            the hundred thousand).
        ignore_index: label of ignored pixels.
    """

    adaptive = True

    def __init__(self, num_classes: int, update_interval: int = 50,
                 buffer_size: int = 2000, min_samples: int = 50,
                 default_high: float = 0.9, default_low: float = 0.5,
                 momentum: float = 0.0, max_observed_per_class: int = 500,
                 ignore_index: int = 255):
        super().__init__(ignore_index)
        if not 0 <= default_low < default_high <= 1:
            raise ValueError('DynamicDualThreshold needs 0 <= default_low < '
                             f'default_high <= 1, got {default_low} / '
                             f'{default_high}')
        self.num_classes = num_classes
        self.update_interval = update_interval
        self.buffer_size = buffer_size
        self.min_samples = min_samples
        self.default_high = default_high
        self.default_low = default_low
        self.momentum = momentum
        self.max_observed_per_class = max_observed_per_class
        self.register_buffer('score_buffer',
                             torch.zeros(num_classes, buffer_size))
        self.register_buffer('num_observed',
                             torch.zeros(num_classes, dtype=torch.long))
        self.register_buffer('tau_high',
                             torch.full((num_classes, ), default_high))
        self.register_buffer('tau_low',
                             torch.full((num_classes, ), default_low))
        self.register_buffer('last_update', torch.tensor(-1))

    # -- the score buffer ---------------------------------------------------
    @torch.no_grad()
    def observe(self, scores: Tensor, labels: Tensor):
        """Append ``scores`` (of any shape) of classes ``labels`` (same
        shape; ``ignore_index`` and out-of-range labels are skipped) to the
        per-class ring buffers.

        In a distributed run every rank appends the scores of all ranks (in
        rank order), so the buffers are one global buffer, the same on
        every rank: the checkpoint (rank 0's) holds all of it, and
        ``--resume`` gives each rank the buffer it had."""
        scores = scores.detach().flatten().float()
        labels = labels.detach().flatten().long()
        taken = [(c, self._taken(scores[labels == c]))
                 for c in labels.unique().tolist()
                 if 0 <= c < self.num_classes]
        if dist.get_world_size() > 1:
            taken = self._from_every_rank(taken, scores)
        for c, s in taken:
            s = s[-self.buffer_size:]
            start = int(self.num_observed[c])
            slots = (start + torch.arange(len(s), device=s.device)) \
                % self.buffer_size
            self.score_buffer[c, slots] = s.to(self.score_buffer)
            self.num_observed[c] += len(s)

    def _taken(self, s: Tensor) -> Tensor:
        """At most ``max_observed_per_class`` of one class's scores."""
        if len(s) > self.max_observed_per_class:
            s = s[torch.randperm(len(s), device=s.device)
                  [:self.max_observed_per_class]]
        return s

    @staticmethod
    def _from_every_rank(taken, like: Tensor):
        """The ``(class, scores)`` of every rank, in rank order."""
        flat = torch.cat([s for _, s in taken]) if taken else like.new_zeros(0)
        classes = torch.cat([torch.full((len(s), ), c, device=like.device)
                             for c, s in taken]) if taken else \
            like.new_zeros(0, dtype=torch.long)
        sizes = dist.all_gather(torch.tensor([len(flat)], device=like.device))
        most = int(max(sizes))
        pad = most - len(flat)
        flat = torch.cat([flat, flat.new_zeros(pad)])
        classes = torch.cat([classes, classes.new_full((pad, ), -1)])
        out = []
        for n, s, c in zip(sizes, dist.all_gather(flat),
                           dist.all_gather(classes)):
            s, c = s[:int(n)], c[:int(n)]
            out += [(k, s[c == k]) for k in c.unique().tolist()]
        return out

    def update_due(self, iteration: int) -> bool:
        return iteration > 0 and iteration % self.update_interval == 0 \
            and int(self.last_update) != iteration

    @torch.no_grad()
    def update(self, iteration: int = 0):
        """Recompute the thresholds from the buffers (the same on every
        rank)."""
        filled = self.num_observed.clamp(max=self.buffer_size)
        slot = torch.arange(self.buffer_size, device=filled.device)
        scores, valid = self.score_buffer, slot[None] < filled[:, None]
        lo, hi = two_means_1d(scores, valid)
        enough = valid.sum(1) >= self.min_samples
        m = self.momentum
        self.tau_high.copy_(torch.where(
            enough, m * self.tau_high + (1 - m) * hi, self.tau_high))
        self.tau_low.copy_(torch.where(
            enough, m * self.tau_low + (1 - m) * lo, self.tau_low))
        self.last_update.fill_(iteration)

    def maybe_update(self, iteration: int):
        if self.update_due(iteration):
            self.update(iteration)

    # -- the tiers ----------------------------------------------------------
    def weights_of(self, scores: Tensor, labels: Tensor) -> Tensor:
        """Per prediction: 1 (≥ τ_high), its score (τ_low ≤ score <
        τ_high) or 0 (ignored, < τ_low)."""
        labels = labels.long().clamp(0, self.num_classes - 1)
        high = self.tau_high.to(scores.device)[labels]
        low = self.tau_low.to(scores.device)[labels]
        return torch.where(scores >= high, torch.ones_like(scores),
                           torch.where(scores >= low, scores,
                                       torch.zeros_like(scores)))

    def forward(self, preds):
        """Instances (``InstanceData`` with ``scores``, ``labels``):
        ``(kept, weights)``, the pseudo-labels (score ≥ τ_low) and their
        tier weights.  A class-probability map ``(C, ...)``:
        ``(labels, weights)``, the arg-max labels with ``ignore_index``
        below τ_low."""
        if isinstance(preds, InstanceData):
            weights = self.weights_of(preds.scores, preds.labels)
            return preds[weights > 0], weights[weights > 0]
        score, label = preds.max(0)
        weights = self.weights_of(score, label)
        label = label.masked_fill(weights == 0, self.ignore_index)
        return label, weights

    def ignored(self, preds: InstanceData) -> InstanceData:
        """The instances below their class's τ_low: ignore regions."""
        return preds[self.weights_of(preds.scores, preds.labels) == 0]

    def extra_repr(self):
        return (f'num_classes={self.num_classes}, update_interval='
                f'{self.update_interval}, buffer_size={self.buffer_size}')
