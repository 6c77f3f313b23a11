"""Normalise with the batch's own statistics, without learning from them."""
from contextlib import contextmanager

import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm


@contextmanager
def batch_norm_statistics(model: nn.Module):
    """Inside the block, ``model``'s BatchNorm layers normalise with the
    statistics of the batch they see (train-mode BN) while their running
    statistics stay exactly as they are (momentum 0); outside it every layer
    is back in its previous mode.

    Used for a teacher whose running statistics were gathered on a different
    distribution (the student's strongly augmented views) than the batch it
    labels (the weak view).  mmdet's ``SoftTeacher`` gets batch statistics by
    accident -- its teacher returns to train mode with ``model.train()`` --
    and then also *updates* the running statistics with every teacher
    forward; this does the first without the second.
    """
    layers = [m for m in model.modules()
              if isinstance(m, _BatchNorm) and m.track_running_stats]
    saved = [(m.training, m.momentum) for m in layers]
    for m in layers:
        m.train()
        m.momentum = 0.0  # running = (1 - 0)·running + 0·batch
    try:
        yield model
    finally:
        for m, (training, momentum) in zip(layers, saved):
            m.train(training)
            m.momentum = momentum
