"""Normalise with the batch's own statistics, without learning from them."""
from contextlib import contextmanager

import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm


@contextmanager
def batch_norm_statistics(model: nn.Module, track: bool = False):
    """Inside the block, ``model``'s BatchNorm layers normalise with the
    statistics of the batch they see (train-mode BN); outside it every layer
    is back in its previous mode.  Their running statistics stay exactly as
    they are (momentum 0) unless ``track``: then each layer updates them with
    its own momentum, ``running ← (1 − m)·running + m·batch``.

    Used for a teacher whose running statistics were gathered on a different
    distribution (the student's strongly augmented views) than the batch it
    labels (the weak view).  mmdet's ``SoftTeacher`` gets batch statistics by
    accident -- its teacher returns to train mode with ``model.train()`` --
    and then also *updates* the running statistics with every teacher
    forward; this does the first without the second (``track=False``) or
    both, on purpose (``track=True``: with an EMA hook that skips buffers,
    the teacher's running statistics become an average of the weak views'
    statistics, the distribution it is validated on).
    """
    layers = [m for m in model.modules()
              if isinstance(m, _BatchNorm) and m.track_running_stats]
    saved = [(m.training, m.momentum) for m in layers]
    for m in layers:
        m.train()
        if not track:
            m.momentum = 0.0  # running = (1 - 0)·running + 0·batch
    try:
        yield model
    finally:
        for m, (training, momentum) in zip(layers, saved):
            m.train(training)
            m.momentum = momentum


@contextmanager
def frozen_running_statistics(model: nn.Module):
    """Inside the block, ``model``'s BatchNorm layers keep the mode they are
    in (train mode: the batch's statistics), but none updates its running
    statistics (momentum 0).

    Used for a student's forward of unlabelled, strongly augmented (or
    CutMix-ed) views: its running statistics -- what it is validated with --
    then come from the labelled batches only, whose distribution is the
    validation images'.
    """
    layers = [m for m in model.modules()
              if isinstance(m, _BatchNorm) and m.track_running_stats
              and m.training]
    saved = [m.momentum for m in layers]
    for m in layers:
        m.momentum = 0.0
    try:
        yield model
    finally:
        for m, momentum in zip(layers, saved):
            m.momentum = momentum
