"""The global random generators' states (python, numpy, torch CPU and CUDA):
read, restored, or kept across a block that must not move them.

torch's states are kept as numpy byte arrays, not tensors: mmengine loads a
checkpoint with ``map_location`` set to the run's device, which would put
tensors on the GPU, and ``torch.set_rng_state`` takes CPU byte tensors
only ("RNG state must be a torch.ByteTensor").  States saved as tensors (by
earlier versions) are brought back to the CPU.
"""
import random
from contextlib import contextmanager

import numpy as np
import torch


def get_rng_state() -> dict:
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state().numpy())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = [s.numpy() for s in torch.cuda.get_rng_state_all()]
    return state


def _byte_tensor(state) -> torch.Tensor:
    """A generator state as the CPU byte tensor torch takes."""
    if isinstance(state, torch.Tensor):
        return state.detach().to('cpu', torch.uint8)
    return torch.from_numpy(np.array(state, dtype=np.uint8))


def set_rng_state(state: dict) -> None:
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(_byte_tensor(state['torch']))
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(
            [_byte_tensor(s) for s in state['cuda']])


@contextmanager
def rng_state_kept():
    """The generators leave the block in the state they entered it."""
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
