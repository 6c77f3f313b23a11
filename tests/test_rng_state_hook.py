"""``RNGStateHook``: a resumed run draws the same random numbers as the
uninterrupted one, validations included.

torch draws one number from the global generator each time a dataloader
makes an iterator (its workers' base seed); a loader with persistent
workers makes one only on its first pass.  The uninterrupted run's first
validation thus draws once, and a resumed process, whose first validation
comes later, used to draw again after the resume point: a run resumed at
iteration 1000 followed the uninterrupted one to iteration 1500 and then
parted from it (README, 3000-iteration stage, seed 2).
"""
import itertools

import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

from mmkd.engine.hooks import RNGStateHook
from mmkd.engine.loops import IterBasedTrainLoop


class _Points(Dataset):

    def __init__(self, size):
        self.size = size

    def __len__(self):
        return self.size

    def __getitem__(self, idx):
        return dict(inputs=torch.full((2, ), idx / 8))


class _SkippingSampler:
    """An endless pass over the data that can start ahead, so the loop
    resumes as with ``SemiSampler``: a fresh iterator over the moved
    sampler."""

    def __init__(self, dataset, seed=None):
        self.size, self._skip = len(dataset), 0

    def skip(self, num_samples):
        self._skip = num_samples

    def __iter__(self):
        skip, self._skip = self._skip, 0
        return itertools.islice(itertools.cycle(range(self.size)), skip, None)

    def __len__(self):
        return self.size


class _NoisyRegressor(BaseModel):
    """Its loss draws from torch's global generator, as RPN/RoI samplers and
    box jitter do; the losses it saw are kept in ``seen``."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.seen = []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.linear(x).squeeze(1)
        if mode == 'loss':
            loss = ((out - torch.rand_like(out))**2).mean()
            self.seen.append(loss.item())
            return dict(loss=loss)
        return [dict(pred=o) for o in out.detach()]


class _MeanPrediction(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.extend(float(s['pred']) for s in data_samples)

    def compute_metrics(self, results):
        return dict(mean=sum(results) / len(results))


def _train(work_dir, name, by_epoch, val_workers, persistent,
           resume_from=None):
    """8 iterations, validation and a checkpoint every 2: an iteration loop
    over 8 points, or 4 epochs over 4; ``persistent`` for both loaders."""
    loader = dict(dataset=_Points(4 if by_epoch else 8), batch_size=2,
                  collate_fn=dict(type='default_collate'))
    if by_epoch:
        sampler = dict(type='DefaultSampler', shuffle=True)
        train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=4,
                         val_interval=1)
    else:
        sampler = dict(type=_SkippingSampler)
        train_cfg = dict(type=IterBasedTrainLoop, max_iters=8,
                         val_interval=2)
    model = _NoisyRegressor()
    runner = Runner(
        model=model, work_dir=str(work_dir), experiment_name=name,
        train_dataloader=dict(loader, num_workers=1,
                              persistent_workers=persistent, sampler=sampler),
        val_dataloader=dict(loader, num_workers=val_workers,
                            persistent_workers=persistent,
                            sampler=dict(type='DefaultSampler',
                                         shuffle=False)),
        val_evaluator=dict(type=_MeanPrediction),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=train_cfg,
        val_cfg=dict(type='ValLoop'),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=1 if by_epoch else 2,
                                           by_epoch=by_epoch),
                           logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[dict(type=RNGStateHook)],
        randomness=dict(seed=0),
        resume=resume_from is not None, load_from=resume_from,
        default_scope='mmengine')
    runner.train()
    return model.seen


@pytest.mark.parametrize('val_workers,persistent', [(1, True), (0, False)])
@pytest.mark.parametrize('by_epoch', [False, True])
def test_resume_continues_exactly_across_validations(tmp_path, by_epoch,
                                                     val_workers,
                                                     persistent):
    """Resumed at iteration 2, the first validation comes right after that
    checkpoint was saved; at 4, the validation loader was made before and
    the next validation (6) falls inside the compared iterations.  Workers
    persistent (a loader draws on its first pass) or not (every pass draws:
    the validation's and the resumed iteration loop's fresh training
    iterator)."""
    straight = _train(tmp_path / 'straight', 'straight', by_epoch,
                      val_workers, persistent)
    assert len(straight) == 8
    for resume_at in (2, 4):
        ckpt = f'epoch_{resume_at // 2}' if by_epoch else f'iter_{resume_at}'
        resumed = _train(tmp_path / f'resumed{resume_at}',
                         f'resumed{resume_at}', by_epoch, val_workers,
                         persistent,
                         resume_from=str(tmp_path / 'straight' /
                                         f'{ckpt}.pth'))
        assert resumed == pytest.approx(straight[resume_at:], rel=1e-6), \
            resume_at


def test_states_survive_a_checkpoint_loaded_onto_another_device(tmp_path):
    """mmengine loads checkpoints with ``map_location`` = the run's device;
    on a GPU the saved torch states arrived as CUDA tensors and
    ``torch.set_rng_state`` refused them ("RNG state must be a
    torch.ByteTensor").  Stand-in: the checkpoint loaded onto ``meta``."""
    from mmkd.utils import safe_torch_load
    from mmkd.utils.random_state import get_rng_state, set_rng_state
    torch.manual_seed(5)
    torch.save(dict(rng_state=get_rng_state()), tmp_path / 'ckpt.pth')
    want = torch.rand(4)
    loaded = safe_torch_load(str(tmp_path / 'ckpt.pth'), map_location='meta')
    torch.manual_seed(6)
    set_rng_state(loaded['rng_state'])
    assert torch.equal(torch.rand(4), want)
    # states saved as tensors (earlier checkpoints) still load
    torch.manual_seed(5)
    old = dict(get_rng_state(), torch=torch.get_rng_state())
    torch.manual_seed(6)
    set_rng_state(old)
    assert torch.equal(torch.rand(4), want)
