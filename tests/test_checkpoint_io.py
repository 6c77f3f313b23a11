import os

import numpy as np
import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import CheckpointLoader, save_checkpoint

from mmkd.utils import AtomicLocalBackend, safe_torch_load


def _mmengine_checkpoint():
    hub = MessageHub.get_instance('ckpt_test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/lr', np.float64(0.01))
    return dict(meta=dict(iter=3, seed=0, np_int=np.int64(7)),
                state_dict=dict(w=torch.arange(4.)),
                message_hub=hub.state_dict(),
                rng=np.random.get_state())


def test_mmengine_checkpoint_loads_weights_only(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    save_checkpoint(_mmengine_checkpoint(), path)
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    hb = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(hb, HistoryBuffer)
    assert hb.current() == 1.5 and hb.mean() == 1.5
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(4.))
    assert ckpt['meta']['np_int'] == 7


class _Evil:

    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_checkpoint_with_code_is_refused_and_named(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, x=_Evil()), path)
    with pytest.raises(RuntimeError, match='evil.pth: refused'):
        safe_torch_load(path)


class _Getattr:

    def __reduce__(self):  # getattr(HistoryBuffer, '__init__'): not allowed
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    path = str(tmp_path / 'ga.pth')
    torch.save(dict(x=_Getattr()), path)
    with pytest.raises(RuntimeError, match='ga.pth: refused'):
        safe_torch_load(path)


def test_local_backend_writes_atomically(tmp_path, monkeypatch):
    backend = get_file_backend(str(tmp_path / 'x.pth'))
    assert isinstance(backend, AtomicLocalBackend)
    target = tmp_path / 'ckpt.pth'
    backend.put(b'old', str(target))

    def fail(*args):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', fail)
    with pytest.raises(OSError):
        backend.put(b'new-but-interrupted', str(target))
    assert target.read_bytes() == b'old'
    assert sorted(os.listdir(tmp_path)) == ['ckpt.pth']  # no temp left


def test_pickle_of_history_buffer_roundtrips_through_safe_load(tmp_path):
    hb = HistoryBuffer()
    for v in (1., 2., 3.):
        hb.update(v)
    path = str(tmp_path / 'hb.pth')
    torch.save(dict(hb=hb), path)
    loaded = safe_torch_load(path)['hb']
    assert loaded.mean() == pytest.approx(2.0)
