import random

import numpy as np
import torch
from mmengine.hooks import Hook

from mmkd.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the random generators' states in checkpoints and restore them on
    ``--resume``, so a resumed run continues exactly.

    mmengine re-seeds a resumed run with the run's initial seed, so the
    random draws of the model (RPN/RoI samplers, dropout) after the resume
    differ from those of the uninterrupted run.  This hook stores python's,
    numpy's and torch's (CPU and CUDA) generator states and puts them back
    when the checkpoint is resumed (not on ``load_from``).

    Data augmentation runs in dataloader workers, which mmengine seeds
    deterministically and which replay the skipped iterations, so exactness
    needs ``num_workers >= 1``; with ``num_workers=0`` augmentation shares
    the main process's generators.  In distributed runs the states of rank 0
    are saved and given to every rank.
    """
    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint):
        state = dict(python=random.getstate(), numpy=np.random.get_state(),
                     torch=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint):
        state = checkpoint.get('rng_state')
        if state is None or not runner._resume:
            return
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])

