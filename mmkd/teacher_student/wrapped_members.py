"""Checkpoint keys of members wrapped one by one for distributed training.

mmengine's ``MMSeparateDistributedDataParallel`` (RAIL: each student steps
on its own) replaces every trainable member by a DDP wrapper *inside* the
model, so ``model.state_dict()`` -- what the runner saves -- names them
``vnet_0.module.*``, while mmengine's loader unwraps wrappers and expects
``vnet_0.*``; it loads non-strictly, so ``--resume`` and ``tools/test.py``
went on with random students and a warning.  The hook here keeps a model's
keys the same wrapped or not (without the wrapper's ``module.``), which is
what mmengine's loader, unwrapping, fills.  torch's own ``load_state_dict``
does not unwrap: :func:`with_wrapper_keys` gives it the keys it expects.
"""
from collections import OrderedDict

from mmengine.model import is_model_wrapper


def _wrapped_children(module):
    return [name for name, child in module._modules.items()
            if child is not None and is_model_wrapper(child)]


def _rename(mapping, rename):
    renamed = OrderedDict((rename(k), v) for k, v in mapping.items())
    mapping.clear()
    mapping.update(renamed)


def _unwrapped_key(key, prefixes):
    for wrapped, plain in prefixes:
        if key.startswith(wrapped):
            return plain + key[len(wrapped):]
    return key


def drop_wrapper_keys(module, state_dict, prefix, local_metadata):
    """``state_dict`` post-hook: ``<prefix><member>.module.x`` ->
    ``<prefix><member>.x`` for every wrapped member."""
    prefixes = [(f'{prefix}{name}.module.', f'{prefix}{name}.')
                for name in _wrapped_children(module)]
    if not prefixes:
        return
    _rename(state_dict, lambda k: _unwrapped_key(k, prefixes))
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        # the wrapper's own entry (``<member>``) gives way to its module's
        names = {plain[:-1] for _, plain in prefixes}
        for key in list(metadata):
            if key in names:
                del metadata[key]
        _rename(metadata, lambda k: _unwrapped_key(k + '.', prefixes)[:-1])


def with_wrapper_keys(model, state_dict) -> dict:
    """``state_dict`` (unwrapped keys) as torch's ``model.load_state_dict``
    expects it when members of ``model`` are wrapped:
    ``<member>.x`` -> ``<member>.module.x``."""
    names = _wrapped_children(model)

    def wrapped(key):
        for name in names:
            if key.startswith(f'{name}.') and \
                    not key.startswith(f'{name}.module.'):
                return f'{name}.module.{key[len(name) + 1:]}'
        return key

    return OrderedDict((wrapped(k), v) for k, v in state_dict.items())


def keep_member_keys_unwrapped(model):
    """Register the hook on ``model`` (the teacher–student core does)."""
    model.register_state_dict_post_hook(drop_wrapper_keys)
