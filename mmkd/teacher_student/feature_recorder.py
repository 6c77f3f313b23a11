"""Record module outputs with forward hooks, by path (the sources of
feature distillation, :mod:`.feature_distillation`)."""
import re
from typing import Dict

import torch.nn as nn

from mmkd.utils.errors import ConfigError

_SOURCE = re.compile(r'^(student|teacher):([A-Za-z_][\w.]*)(?:\[(\d+)\])?$')


def parse_source(text: str):
    """``'student:neck[2]'`` -> ``('student', 'neck', 2)``;
    ``'teacher:decode_head.conv_seg'`` -> ``('teacher', …, None)``."""
    m = _SOURCE.match(text.replace(' ', ''))
    if not m:
        raise ConfigError(
            f'feature source {text!r}: expected "student:<module path>" or '
            '"teacher:<module path>[<output index>]", e.g. "student:neck[0]"'
            ' or "teacher:decode_head.conv_seg"')
    model, path, index = m.groups()
    return model, path, None if index is None else int(index)


def get_module(model: nn.Module, path: str, owner: str) -> nn.Module:
    try:
        return model.get_submodule(path)
    except AttributeError:
        top = ', '.join(name for name, _ in model.named_children())
        raise ConfigError(f'{owner} has no module {path!r} (its top-level '
                         f'modules: {top})') from None


class FeatureRecorder:
    """Keeps the latest output of each registered module."""

    def __init__(self):
        self.outputs: Dict[str, object] = {}
        self.keys = set()
        self.enabled = False  # only the training step records

    def __contains__(self, key):
        return key in self.keys

    def add(self, key: str, module: nn.Module):
        def hook(_module, _inputs, output):
            if self.enabled:
                self.outputs[key] = output
        self.keys.add(key)
        module.register_forward_hook(hook)

    def get(self, key: str, index=None):
        if key not in self.outputs:
            raise RuntimeError(f'{key} did not run in this forward pass')
        out = self.outputs[key]
        if index is None:
            return out
        if not isinstance(out, (tuple, list)) or index >= len(out):
            n = len(out) if isinstance(out, (tuple, list)) else 'a tensor'
            raise ValueError(f'{key}[{index}]: the module returned {n}')
        return out[index]

    def clear(self):
        self.outputs.clear()
