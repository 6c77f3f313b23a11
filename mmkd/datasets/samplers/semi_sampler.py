"""Infinite sampler with a fixed labelled:unlabelled ratio in every batch."""
import itertools
from typing import Iterator, Sequence, Tuple

import numpy as np
import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmkd.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class SemiSampler(Sampler):
    """Infinite stream of *units* of ``sum(ratio)`` indices: ``ratio[0]``
    labelled then ``ratio[1]`` unlabelled images, all from one aspect-ratio
    group (landscape / portrait, as mmdet's ``GroupMultiSourceSampler``).

    The ratio is stated here only: ``train_dataloader.batch_size`` must be a
    multiple of ``sum(ratio)`` (1 unit = ``batch_size=5`` at ``ratio=(1, 4)``,
    checked by :class:`~mmkd.engine.loops.IterBasedTrainLoop`), instead of a
    batch size repeated in the sampler as in mmdet.

    Each index is yielded as ``(index, seed)`` with a seed fixed by the
    sampler's seed and the position in the stream;
    :class:`~mmkd.datasets.SemiDataset` loads the sample under that seed.
    :meth:`skip` moves the stream ahead by generating indices only, so
    ``--resume`` does not load and transform every skipped image (mmengine
    replays the dataloader) and still continues exactly.

    Distributed: every rank generates the same global stream of units and
    takes its block of each global batch -- rank ``r`` of ``N`` the units
    ``r·k … r·k + k − 1`` of every ``N·k`` (``k`` = units per process batch,
    set by :class:`~mmkd.engine.loops.IterBasedTrainLoop`).  So ``N``
    processes with batch ``b`` see the images of one process with batch
    ``N·b``, in the same order and with the same augmentation seeds, and
    every rank's batch holds labelled images.

    Args:
        dataset: a :class:`~mmkd.datasets.SemiDataset` (or any
            ``ConcatDataset`` of a labelled and an unlabelled dataset).
        ratio: images per unit from the labelled and the unlabelled set.
        shuffle: permute each pass over a dataset.
        seed: shared by all ranks (default: synchronised random seed).
        group_by_aspect_ratio: form units within one aspect-ratio group.
    """

    def __init__(self, dataset, ratio: Sequence[int] = (1, 4),
                 shuffle: bool = True, seed=None,
                 group_by_aspect_ratio: bool = True):
        if len(getattr(dataset, 'datasets', ())) != 2:
            raise TypeError('SemiSampler needs a dataset of a labelled and an '
                            'unlabelled part (type=SemiDataset), got '
                            f'{type(dataset).__name__}')
        if len(ratio) != 2 or min(ratio) < 0 or sum(ratio) == 0 or any(
                int(r) != r for r in ratio):
            raise ValueError('SemiSampler ratio must be two non-negative '
                             f'integers (labelled, unlabelled), got {ratio}')
        self.dataset = dataset
        self.ratio = tuple(int(r) for r in ratio)
        self.unit = sum(self.ratio)
        self.shuffle = shuffle
        self.rank, self.world_size = get_dist_info()
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.offsets = [0, len(dataset.datasets[0])]
        # group -> source -> indices within that source
        self.groups = self._groups(group_by_aspect_ratio)
        sizes = np.array([sum(len(g[s]) for s in (0, 1) if self.ratio[s])
                          for g in self.groups], dtype=np.float64)
        self.group_p = sizes / sizes.sum()
        self._skip = 0
        #: units in one process's batch (the loop sets it)
        self.units_per_batch = 1

    def _groups(self, by_aspect):
        sources = self.dataset.datasets
        if not by_aspect:
            return [[list(range(len(d))) for d in sources]]
        groups = [[[], []], [[], []]]
        for s, d in enumerate(sources):
            for i in range(len(d)):
                info = d.get_data_info(i)
                w, h = info.get('width', 1), info.get('height', 0)
                groups[0 if w < h else 1][s].append(i)
        # a group without images of a needed source cannot form units
        groups = [g for g in groups
                  if all(g[s] or not self.ratio[s] for s in (0, 1))]
        for s in (0, 1):
            if self.ratio[s] and not any(g[s] for g in groups):
                raise ValueError(f'SemiSampler: the {"un" * s}labelled '
                                 'dataset is empty')
        return groups

    def _stream(self, indices, key) -> Iterator[int]:
        """Endless passes over ``indices`` (reshuffled each pass)."""
        g = torch.Generator()
        g.manual_seed(self.seed * 1_000_003 + key)
        while True:
            if self.shuffle:
                yield from (indices[i] for i in
                            torch.randperm(len(indices), generator=g)
                            .tolist())
            else:
                yield from indices

    def skip(self, num_samples: int) -> None:
        """Start the next iteration ``num_samples`` (of this process) into
        the stream."""
        self._skip = int(num_samples)

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        streams = [[self._stream(g[s], 2 * k + s) for s in (0, 1)]
                   for k, g in enumerate(self.groups)]
        group_rng = np.random.default_rng([self.seed, 7])
        # every rank consumed as many samples: the global stream moved N×
        skip, self._skip = self._skip * self.world_size, 0
        block = self.units_per_batch
        position = 0
        for unit in itertools.count():
            k = group_rng.choice(len(self.groups), p=self.group_p)
            mine = (unit // block) % self.world_size == self.rank
            for s in (0, 1):
                for _ in range(self.ratio[s]):
                    idx = next(streams[k][s]) + self.offsets[s]
                    if mine and position >= skip:
                        yield idx, self._sample_seed(position)
                    position += 1

    def _sample_seed(self, position) -> int:
        # rank 0 in the key: the seeds of earlier versions on one process
        return hash((self.seed, 0, position)) % 2**63

    def __len__(self) -> int:
        # infinite: the length of the data, as mmengine's InfiniteSampler
        return len(self.dataset)

    def set_epoch(self, epoch: int) -> None:
        """Iteration-based: nothing to do (called by DistSamplerSeedHook)."""
