"""A labelled and an unlabelled dataset behind one index space."""
import random

import numpy as np
import torch
from mmengine.dataset import ConcatDataset

from mmkd.registry import DATASETS
from mmkd.utils.errors import DataError
from mmkd.utils.random_state import rng_state_kept


def _name(dataset):
    return (getattr(dataset, 'ann_file', None)
            or getattr(dataset, 'data_root', None) or type(dataset).__name__)


@DATASETS.register_module()
class SemiDataset(ConcatDataset):
    """``labeled`` then ``unlabeled``, concatenated (indices
    ``[0, len(labeled))`` are labelled), for
    :class:`~mmkd.datasets.samplers.SemiSampler`.

    * The two class lists must be identical (same names, same order): a
      mismatch is an error naming both files -- mmengine would only say
      that the meta information of the datasets differs.  An unlabelled
      dataset without a class list (an image folder) takes the labelled
      one's.
    * An index may come as ``(index, seed)``: the python, numpy and torch
      generators are seeded with ``seed`` while that sample is loaded (and
      restored afterwards), so a sample's augmentation depends on its
      position in the sampler's stream only -- not on which worker loads it
      or how many samples that worker loaded before.  This is what lets
      ``--resume`` skip ahead without loading the skipped images and still
      reproduce the uninterrupted run.
    """

    def __init__(self, labeled, unlabeled, lazy_init=False):
        datasets = [DATASETS.build(d) if isinstance(d, dict) else d
                    for d in (labeled, unlabeled)]
        classes = [tuple(d.metainfo.get('classes', ())) for d in datasets]
        if not classes[1]:  # e.g. an image folder: takes the labelled list
            datasets[1]._metainfo['classes'] = classes[1] = classes[0]
        if classes[0] != classes[1]:
            raise DataError(
                f'labelled and unlabelled datasets have different class lists'
                f': {_name(datasets[0])} has {list(classes[0])}, '
                f'{_name(datasets[1])} has {list(classes[1])}; give both the '
                'same metainfo=dict(classes=...)')
        other_keys = (set(datasets[0].metainfo) | set(datasets[1].metainfo)
                      ) - {'classes'}
        super().__init__(datasets, lazy_init=lazy_init,
                         ignore_keys=sorted(other_keys))
        self._metainfo = datasets[0].metainfo

    @property
    def num_labeled(self) -> int:
        return len(self.datasets[0])

    def __getitem__(self, idx):
        if not isinstance(idx, tuple):
            return super().__getitem__(idx)
        idx, seed = idx
        with rng_state_kept():
            random.seed(seed)
            np.random.seed(seed % 2**32)
            torch.manual_seed(seed)
            return super().__getitem__(idx)
