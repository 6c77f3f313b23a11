"""Feature distillation as a step any teacher–student model can add: record
module outputs of a student and a frozen teacher while they run, and feed
them to distillation losses declared in the config (mmrazor's idea of
recorders and a loss mapping, without its indirection)::

    L_distill = w_distill · Σ_l loss_l(recorded inputs of l)

A loss says which outputs it takes, by forward argument::

    distill_losses=dict(fpn=dict(type='ACAMKDLoss', levels=5, ...,
        inputs=dict(student='student:neck', teacher='teacher:neck')))

(``levels=N`` repeats a loss per output level, ``[i]`` appended to its
sources). Sources and argument names are checked when the model is built.
"""
import copy
import inspect
from contextlib import contextmanager
from typing import Dict

import torch
import torch.nn as nn

from mmkd.registry import MODELS
from mmkd.utils.errors import ConfigError

from .feature_recorder import FeatureRecorder, get_module, parse_source


def expand_levels(distill_losses: Dict) -> Dict:
    """A loss with ``levels=N`` (or a list of indices) becomes one loss per
    level, named ``<name><i>``, whose sources get ``[i]`` appended;
    ``per_level=dict(arg=[v0, v1, …])`` gives level ``i`` the argument
    ``v_i`` (e.g. a K/V pooling stride per FPN level)."""
    out = {}
    for name, cfg in distill_losses.items():
        cfg = copy.deepcopy(dict(cfg))
        levels = cfg.pop('levels', None)
        per_level = cfg.pop('per_level', {})
        if levels is None:
            out[name] = cfg
            continue
        levels = list(range(levels) if isinstance(levels, int) else levels)
        for arg, values in per_level.items():
            if len(values) != len(levels):
                raise ConfigError(f'distill_losses.{name}.per_level.{arg}: '
                                  f'{len(values)} values for {len(levels)} '
                                  'levels')
        for n, i in enumerate(levels):
            c = copy.deepcopy(cfg)
            c['inputs'] = {k: f'{v}[{i}]' for k, v in cfg['inputs'].items()}
            c.update({arg: values[n] for arg, values in per_level.items()})
            out[f'{name}{i}'] = c
    return out


class FeatureDistillation(nn.ModuleDict):
    """The distillation losses (``name -> loss module``: their learnable
    parts are the model's, checkpoint keys ``distill_losses.<name>.*``), the
    recorders on ``student`` and ``teacher`` that feed them, and the step::

        with distillation.recording():
            distillation.run_teacher(teacher, inputs, data_samples)
            task = student.loss(inputs, data_samples)   # recorded too
        losses = distillation.losses(weight, task_total)

    ``inputs``: ``name -> {argument: (recorder key, output index)}``.
    """

    def __init__(self, distill_losses: Dict, student: nn.Module,
                 teacher: nn.Module):
        super().__init__()
        self.inputs: Dict[str, Dict] = {}
        self.recorder = FeatureRecorder()
        self.teacher_paths = set()
        models = dict(student=student, teacher=teacher)
        for name, cfg in expand_levels(distill_losses).items():
            self._add(name, dict(cfg), models)

    def _add(self, name, cfg, models):
        if 'inputs' not in cfg:
            raise ConfigError(f'distill_losses.{name}: no "inputs" (which '
                              'recorded features feed the loss)')
        inputs = cfg.pop('inputs')
        loss = MODELS.build(cfg)
        signature = inspect.signature(loss.forward).parameters
        unknown = sorted(set(inputs) - set(signature))
        missing = [p for p, v in signature.items()
                   if v.default is inspect.Parameter.empty
                   and p not in inputs]
        if unknown or missing:
            raise ConfigError(
                f'distill_losses.{name}: {type(loss).__name__}.forward '
                f'takes {list(signature)}; inputs gives {sorted(inputs)}'
                + (f' (unknown: {unknown})' if unknown else '')
                + (f' (missing: {missing})' if missing else ''))
        parsed = {}
        for arg, source in inputs.items():
            who, path, index = parse_source(source)
            module = get_module(models[who], path,
                                f'distill_losses.{name}.inputs.{arg}: '
                                f'the {who}')
            check_channels(name, arg, who, path, module, loss)
            key = f'{who}:{path}'
            if key not in self.recorder:
                self.recorder.add(key, module)
            if who == 'teacher':
                self.teacher_paths.add(path)
            parsed[arg] = (key, index)
        self[name] = loss
        self.inputs[name] = parsed

    @contextmanager
    def recording(self):
        """Record the outputs of the forwards run inside."""
        self.recorder.clear()
        self.recorder.enabled = True
        try:
            yield
        finally:
            self.recorder.enabled = False

    @torch.no_grad()
    def run_teacher(self, teacher: nn.Module, inputs, data_samples):
        """The teacher's forward, only as far as the recorded modules: the
        features when every source is in its backbone / neck, else the
        whole network (heads, no post-processing)."""
        if all(p.split('.')[0] in ('backbone', 'neck')
               for p in self.teacher_paths):
            teacher.extract_feat(inputs)
        else:
            teacher._forward(inputs, data_samples)

    def losses(self, weight: float, task_total) -> Dict:
        """``loss_distill_<name>_<term>`` of what was recorded, times
        ``weight``, and ``distill_task_ratio`` (their sum over
        ``task_total``, the task loss); forgets the records."""
        out, total = {}, 0
        for name, loss in self.items():
            kwargs = {arg: self.recorder.get(key, index)
                      for arg, (key, index) in self.inputs[name].items()}
            terms = loss(**kwargs)
            if not isinstance(terms, dict):
                terms = dict(loss=terms)
            for k, v in terms.items():
                v = v * weight
                out[f'loss_distill_{name}_{k.removeprefix("loss_")}'] = v
                total = total + v.detach()
        self.recorder.clear()
        out['distill_task_ratio'] = (
            torch.as_tensor(total) / task_total.detach().clamp(min=1e-12))
        return out


def check_channels(name, arg, who, path, module, loss):
    """A loss built for ``<who>_channels`` must read a module with that
    many output channels."""
    declared = getattr(loss, f'{who}_channels', None)
    actual = getattr(module, 'out_channels', None)
    if declared is not None and isinstance(actual, int) and \
            declared != actual:
        raise ConfigError(
            f'distill_losses.{name}.inputs.{arg}: {who} module {path!r} '
            f'has {actual} output channels, the loss was built for '
            f'{who}_channels={declared}')
