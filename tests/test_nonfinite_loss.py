"""``NonFiniteLossHook``: a diverging run stops at its first non-finite
loss with one line and no checkpoint of broken weights; with
``action='skip'`` those steps are not taken and are counted."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

from mmkd.engine.hooks import NonFiniteLossHook
from mmkd.engine.hooks.nonfinite_loss_hook import first_nonfinite
from mmkd.utils import TrainingError


class _Points(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, idx):
        return dict(inputs=torch.full((2, ), idx / 8))


class _Regressor(BaseModel):
    """Its ``loss_fit`` is nan on the (1-based) iterations in ``bad``."""

    def __init__(self, bad=()):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.bad, self.calls, self.weights = set(bad), 0, []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.calls += 1
        self.weights.append(self.linear.weight.detach().clone())
        out = self.linear(torch.stack(inputs) if isinstance(inputs, list)
                          else inputs)
        loss = (out - 1).pow(2).mean()
        if self.calls in self.bad:
            loss = loss * float('nan')
        return dict(loss_fit=loss, loss_const=loss.detach() * 0 + 1)


def _train(work_dir, model, hook, iters=6):
    runner = Runner(
        model=model, work_dir=str(work_dir),
        train_dataloader=dict(dataset=_Points(), batch_size=2,
                              sampler=dict(type='InfiniteSampler'),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1,
                                          momentum=0.9, weight_decay=0.1)),
        train_cfg=dict(by_epoch=False, max_iters=iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=2, by_epoch=False),
                           logger=dict(type='LoggerHook', interval=1),
                           nonfinite_loss=hook),
        default_scope='mmengine')
    runner.train()
    return runner


def test_first_nonfinite_names_the_term_not_the_total():
    finite = dict(loss=torch.tensor(3.), loss_a=torch.tensor(1.),
                  acc=torch.tensor(float('nan')))  # not a loss: ignored
    assert first_nonfinite(finite) is None
    bad = dict(loss=torch.tensor(float('inf')), loss_a=torch.tensor(1.),
               unsup_loss_cls=torch.tensor([1., float('inf')]))
    assert first_nonfinite(bad) == ('unsup_loss_cls', float('inf'))


def test_a_nan_loss_stops_before_the_checkpoint(tmp_path):
    """nan at iteration 4: stopped there, with the term named; iter_2.pth
    (good) is kept and no iter_4.pth is written."""
    with pytest.raises(TrainingError,
                       match=r"iteration 4: loss term 'loss_fit' is nan"):
        _train(tmp_path, _Regressor(bad={4}), NonFiniteLossHook())
    assert sorted(osp.basename(p) for p in glob.glob(
        str(tmp_path / '*.pth'))) == ['iter_2.pth']


def test_skip_leaves_the_weights_of_a_bad_step_and_goes_on(tmp_path):
    model = _Regressor(bad={3})
    runner = _train(tmp_path, model,
                    NonFiniteLossHook(action='skip', max_skips=2))
    w = model.weights  # before each step's forward
    assert torch.equal(w[2], w[3])  # step 3 was not taken
    assert not torch.equal(w[1], w[2]) and not torch.equal(w[3], w[4])
    assert torch.isfinite(model.linear.weight).all()
    assert runner.message_hub.get_scalar(
        'train/skipped_steps').current() == 1
    assert osp.isfile(tmp_path / 'iter_6.pth')


def test_skip_stops_after_too_many_in_a_row(tmp_path):
    with pytest.raises(TrainingError, match='after 2 skipped steps in a row'):
        _train(tmp_path, _Regressor(bad={3, 4}),
               NonFiniteLossHook(action='skip', max_skips=2))


def test_a_checkpoint_of_nonfinite_weights_is_refused():
    from types import SimpleNamespace
    hook = NonFiniteLossHook()
    good = dict(state_dict=dict(w=torch.ones(2), n=torch.tensor(3)))
    hook.before_save_checkpoint(SimpleNamespace(iter=5, work_dir='w'), good)
    bad = dict(state_dict=dict(w=torch.tensor([1., float('nan')])))
    with pytest.raises(TrainingError, match="1 weights are not finite"):
        hook.before_save_checkpoint(SimpleNamespace(iter=5, work_dir='w'),
                                    bad)


def test_every_config_stops_on_a_nonfinite_loss():
    from mmengine.config import Config

    from conftest import ROOT
    files = [f for f in glob.glob(f'{ROOT}/configs/**/*.py', recursive=True)
             if '_base_' not in f]
    missing = [osp.relpath(f, ROOT) for f in files
               if 'nonfinite_loss' not in Config.fromfile(f).get(
                   'default_hooks', {})]
    assert files and not missing
