"""Safe, atomic checkpoint I/O for mmengine runs.

Two things mmengine 0.10.7 gets wrong with torch >= 2.6:

* ``load_from_local`` calls ``torch.load`` without ``weights_only``.  torch now
  defaults it to True, and mmengine's own checkpoints hold a
  ``HistoryBuffer`` (message hub), numpy arrays and -- through
  ``HistoryBuffer.__getstate__`` -- references to its statistics functions,
  pickled as ``builtins.getattr(HistoryBuffer, 'mean')``.  So ``--resume`` and
  ``load_from`` fail.  Turning ``weights_only`` off would let any checkpoint
  run code.  Instead we keep ``weights_only=True`` and allow, for the duration
  of one load, exactly the globals an mmengine checkpoint needs; ``getattr`` is
  replaced by a function that only resolves HistoryBuffer's statistics methods.
* ``LocalBackend.put`` writes in place, so a run killed while saving leaves a
  truncated checkpoint (and ``last_checkpoint`` pointing at it).  We write to a
  temporary file in the same directory and ``os.replace`` it.

Call :func:`install_checkpoint_io` once (``register_all_modules`` does).
"""
import os
import os.path as osp
import pickle
import tempfile

import numpy as np
import torch
from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from .unwrap import unwrap_model


def _history_buffer_getattr(obj, name):
    """Stand-in for ``builtins.getattr`` while unpickling: only resolves the
    statistics methods that ``HistoryBuffer.__getstate__`` pickles."""
    # the built-in methods are registered when the first buffer is made
    allowed = {'min', 'max', 'current', 'mean'}
    allowed.update(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); mmkd only allows '
        'HistoryBuffer statistics methods in a weights-only load')


def _numpy_safe_globals():
    names = [np.ndarray, np.dtype, bytes]
    core = getattr(np, '_core', None) or np.core
    names += [core.multiarray._reconstruct, core.multiarray.scalar]
    # numpy >= 1.25 pickles dtypes as instances of numpy.dtypes.*DType
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        names += [getattr(dtypes, n) for n in dir(dtypes)
                  if n.endswith('DType') and isinstance(getattr(dtypes, n),
                                                        type)]
    return names


def checkpoint_safe_globals():
    """The globals an mmengine checkpoint may reference (for
    ``safe_globals``)."""
    return [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')
            ] + _numpy_safe_globals()


def safe_torch_load(filename, map_location=None):
    """``torch.load(weights_only=True)`` that accepts mmengine checkpoints.

    Raises a ``RuntimeError`` naming the file when it needs anything else.
    """
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as e:
        raise RuntimeError(
            f'{filename}: refused to load: it is not a weights-only '
            f'checkpoint ({str(e).splitlines()[0]}). If you trust this file, '
            'load it yourself with torch.load(weights_only=False) and save '
            'its state_dict.') from e


def _load_from_local(filename, map_location):
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        from .errors import DataError
        raise DataError(
            f'checkpoint {filename!r} does not exist: the config\'s '
            'load_from, a model\'s init_cfg (Pretrained) or teacher_ckpt '
            'names it; train that model first or point the key at your '
            'checkpoint (--cfg-options)')
    return safe_torch_load(filename, map_location=map_location)


class AtomicLocalBackend(LocalBackend):
    """Local file backend whose writes are atomic (temp file + rename)."""

    def put(self, obj, filepath):
        filepath = str(filepath)
        dirname = osp.dirname(osp.abspath(filepath))
        os.makedirs(dirname, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dirname,
                                   prefix='.' + osp.basename(filepath),
                                   suffix='.tmp')
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise

    def put_text(self, obj, filepath, encoding='utf-8'):
        self.put(obj.encode(encoding), filepath)


_installed = False


def install_checkpoint_io():
    """Route mmengine's local checkpoint loads and writes through mmkd."""
    global _installed
    if _installed:
        return
    CheckpointLoader.register_scheme(prefixes='', loader=_load_from_local,
                                     force=True)
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    _installed = True


def _state_dict(filename):
    """The weights of a checkpoint file, without DDP's ``module.`` prefix."""
    ckpt = safe_torch_load(filename, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else {}
    return {k[7:] if k.startswith('module.') else k: v
            for k, v in state.items()}


def check_resume_checkpoint(model, filename):
    """Stop with one line naming ``filename`` when its weights are not those
    of ``model`` (missing or extra parameters, other shapes) -- mmengine
    would load what fits, then fail deep inside the optimiser's
    ``load_state_dict`` with a message naming neither file."""
    from .errors import DataError
    model = unwrap_model(model)
    state = _state_dict(filename)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    shapes = [f'{k} {tuple(state[k].shape)} vs {tuple(v.shape)}'
              for k, v in own.items()
              if k in state and hasattr(state[k], 'shape')
              and tuple(state[k].shape) != tuple(v.shape)]
    if not (missing or extra or shapes):
        return
    parts = []
    for what, keys in (('missing from it', missing), ('not in the model',
                                                       extra),
                       ('of another shape (checkpoint vs model)', shapes)):
        if keys:
            parts.append(f'{len(keys)} {what} (e.g. {keys[0]})')
    raise DataError(f'--resume {filename}: this checkpoint is not of the '
                    f"config's model: parameters {'; '.join(parts)}; resume "
                    'a checkpoint of the same config, or start from its '
                    'weights with load_from')


def check_checkpoint_fills_model(model, filename):
    """Stop with one line naming ``filename`` unless its weights fill every
    parameter of ``model`` -- for ``tools/test.py``: mmengine loads what fits
    with a warning in the log, so a checkpoint of another model (a
    detector's on a segmentation config, another class count) would be
    evaluated with random weights and print a metric.  The model's own
    loading rules apply (a plain checkpoint fills every member of a
    teacher-student model); the checkpoint is loaded into ``model``, as the
    test would do next."""
    from mmkd.teacher_student.wrapped_members import with_wrapper_keys

    from .errors import DataError
    model = unwrap_model(model)
    state = with_wrapper_keys(model, _state_dict(filename))
    params = [name for name, _ in model.named_parameters()]
    try:
        result = model.load_state_dict(state, strict=False)
    except (RuntimeError, ValueError) as e:
        text = str(e)
        shapes = text.count('size mismatch for ')
        first = [line.strip() for line in text.splitlines()
                 if 'size mismatch for' in line][:1]
        detail = (f'{shapes} parameters of another shape ({first[0]})'
                  if shapes else text.splitlines()[0])
        raise DataError(f'{filename}: not a checkpoint of this config\'s '
                        f'model: {detail}') from None
    missing = [k for k in result.missing_keys if k in set(params)]
    if missing:
        raise DataError(
            f'{filename}: the checkpoint fills {len(params) - len(missing)} '
            f"of the model's {len(params)} parameters ({len(missing)} "
            f'missing, e.g. {missing[0]}): it is not a checkpoint of this '
            "config's model; test a checkpoint of the same config (or its "
            'exported member with the exported config)')
