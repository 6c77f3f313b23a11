"""A data preprocessor for batches with several branches (``sup``,
``unsup_teacher``, ``unsup_student``...).

mmdet's ``MultiBranchDataPreprocessor`` does the same job but its ``to()``,
``cuda()`` and ``cpu()`` return the *inner* preprocessor instead of the
module itself.  mmengine's ``MMSeparateDistributedDataParallel`` (one DDP per
member: RAIL's four students) stores ``child.to(device)`` back into the
model, so under it the wrapper vanished, the branches' ``None`` entries
(a labelled sample has no unlabelled view) reached the model, and the first
step failed.  This one returns itself, and lives in the generic core (no
detection import); the 3D configs use it.
"""
from typing import Optional, Union

import torch
from mmengine.model import BaseDataPreprocessor

from mmkd.registry import MODELS


@MODELS.register_module()
class MultiBranchDataPreprocessor(BaseDataPreprocessor):
    """Apply ``data_preprocessor`` to each branch of a multi-branch batch.

    Training batches hold ``inputs`` / ``data_samples`` as ``{branch: [one
    entry per sample or None]}``; the ``None`` entries (the sample has no such
    view) are dropped and each branch is preprocessed on its own:
    ``{'inputs': {branch: ...}, 'data_samples': {branch: ...}}``.  Outside
    training the batch is a plain one and goes straight to
    ``data_preprocessor``.
    """

    def __init__(self, data_preprocessor: dict):
        super().__init__()
        self.data_preprocessor = MODELS.build(data_preprocessor)

    def forward(self, data: dict, training: bool = False) -> dict:
        if not training:
            return self.data_preprocessor(data, training)
        branches = {}
        for key, per_branch in data.items():
            for branch, values in per_branch.items():
                branches.setdefault(branch, {})[key] = [
                    v for v in values if v is not None]
        out = {}
        for branch, branch_data in branches.items():
            done = self.data_preprocessor(branch_data, training)
            for key, value in done.items():
                out.setdefault(key, {})[branch] = value
        return out

    @property
    def device(self):
        return self.data_preprocessor.device

    def to(self, device: Optional[Union[int, torch.device]], *args,
           **kwargs) -> 'MultiBranchDataPreprocessor':
        self.data_preprocessor.to(device, *args, **kwargs)
        return self

    def cuda(self, *args, **kwargs) -> 'MultiBranchDataPreprocessor':
        self.data_preprocessor.cuda(*args, **kwargs)
        return self

    def cpu(self, *args, **kwargs) -> 'MultiBranchDataPreprocessor':
        self.data_preprocessor.cpu(*args, **kwargs)
        return self
