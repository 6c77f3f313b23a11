"""The global random generators' states (python, numpy, torch CPU and CUDA):
read, restored, or kept across a block that must not move them."""
import random
from contextlib import contextmanager

import numpy as np
import torch


def get_rng_state() -> dict:
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@contextmanager
def rng_state_kept():
    """The generators leave the block in the state they entered it."""
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
