"""Feature distillation for mmdet / mmseg models, declared in the config:
which module outputs to record, which loss consumes them (the good idea of
mmrazor, without its indirection)."""
import copy
import inspect
import os.path as osp
from typing import Dict

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.runner.checkpoint import _load_checkpoint, load_state_dict

from mmkd.registry import MODELS
from mmkd.utils.errors import ConfigError

from .recorder import FeatureRecorder, get_module, parse_source


def _model_cfg(cfg):
    """A model config, or the ``model`` of a config file (a path relative
    to the working directory or to the mmkd repository)."""
    if not isinstance(cfg, str):
        return cfg
    from mmengine.config import Config
    path = cfg
    if not osp.isfile(path):
        repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
        path = osp.join(repo, cfg)
    if not osp.isfile(path):
        raise ConfigError(f'teacher config {cfg!r} does not exist')
    return Config.fromfile(path).model


def _expand_levels(distill_losses: Dict) -> Dict:
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


@MODELS.register_module()
class FeatureDistiller(BaseModel):
    """A frozen teacher and a trainable student; the student's task loss plus
    distillation losses on recorded features::

        L = L_task(student) + w_distill · Σ_losses loss(inputs…)

    Args:
        student: config of the student (an mmdet / mmseg model).
        teacher: config of the teacher, or the path of a config file whose
            ``model`` is the teacher.
        teacher_ckpt: checkpoint of the teacher (a plain mmdet / mmseg one,
            or a distiller's / semi-supervised one: ``teacher.`` /
            ``student.`` prefixes are tried).
        distill_losses: ``name -> loss config`` (``MODELS``), each with
            ``inputs=dict(<forward argument>='student:<module>[<index>]',
            …)`` and optionally ``levels=N`` to repeat it per output level.
            Sources and argument names are checked when the model is built.
        inherit: module prefixes (e.g. ``['neck', 'rpn_head', 'roi_head']``)
            whose teacher weights initialise the student where the shapes
            agree ("inheritance" init, done in :meth:`init_weights`).
        distill_weight: ``w_distill`` (a hook may schedule it).
        data_preprocessor: default: the student's.

    The teacher has no gradients and stays in eval mode after
    ``model.train()``; val / test / export use the student.
    """

    def __init__(self, student, teacher, distill_losses, teacher_ckpt=None,
                 inherit=(), distill_weight=1.0, data_preprocessor=None,
                 init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = student.get('data_preprocessor')
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.student = MODELS.build(student)
        self.teacher = MODELS.build(_model_cfg(teacher))
        if teacher_ckpt:
            self.load_teacher(teacher_ckpt)
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        self.inherit = list(inherit)
        self.distill_weight = distill_weight
        self.distill_losses = torch.nn.ModuleDict()
        self.loss_inputs = {}
        self.recorder = FeatureRecorder()
        self._teacher_paths = set()
        self._build_losses(_expand_levels(distill_losses))

    # -- build ----------------------------------------------------------------
    def load_teacher(self, path):
        ckpt = _load_checkpoint(path, map_location='cpu')
        state = ckpt.get('state_dict', ckpt)
        for prefix in ('teacher.', 'student.'):
            if any(k.startswith(prefix) for k in state):
                # a distiller's or semi-supervised model's checkpoint
                state = {k[len(prefix):]: v for k, v in state.items()
                         if k.startswith(prefix)}
                break
        load_state_dict(self.teacher, state, strict=True)
        # mmengine's Runner calls model.init_weights() after building; the
        # recursive BaseModule.init_weights would re-initialise the teacher's
        # backbone and heads and throw these weights away. Marking the
        # teacher initialised makes BaseModule skip its whole subtree.
        self.teacher._is_init = True

    def _build_losses(self, cfgs):
        models = dict(student=self.student, teacher=self.teacher)
        for name, cfg in cfgs.items():
            cfg = dict(cfg)
            if 'inputs' not in cfg:
                raise ConfigError(f'distill_losses.{name}: no "inputs" (which '
                                 'recorded features feed the loss)')
            inputs = cfg.pop('inputs')
            loss = MODELS.build(cfg)
            params = [p for p in inspect.signature(loss.forward).parameters]
            unknown = sorted(set(inputs) - set(params))
            missing = [p for p, v in inspect.signature(
                loss.forward).parameters.items()
                if v.default is inspect.Parameter.empty and p not in inputs]
            if unknown or missing:
                raise ConfigError(
                    f'distill_losses.{name}: {type(loss).__name__}.forward '
                    f'takes {params}; inputs gives {sorted(inputs)}'
                    + (f' (unknown: {unknown})' if unknown else '')
                    + (f' (missing: {missing})' if missing else ''))
            parsed = {}
            for arg, source in inputs.items():
                who, path, index = parse_source(source)
                module = get_module(models[who], path,
                                    f'distill_losses.{name}.inputs.{arg}: '
                                    f'the {who}')
                self._check_channels(name, arg, who, path, module, loss)
                key = f'{who}:{path}'
                if key not in self.recorder:
                    self.recorder.add(key, module)
                if who == 'teacher':
                    self._teacher_paths.add(path)
                parsed[arg] = (key, index)
            self.distill_losses[name] = loss
            self.loss_inputs[name] = parsed

    @staticmethod
    def _check_channels(name, arg, who, path, module, loss):
        declared = getattr(loss, f'{who}_channels', None)
        actual = getattr(module, 'out_channels', None)
        if declared is not None and isinstance(actual, int) and \
                declared != actual:
            raise ConfigError(
                f'distill_losses.{name}.inputs.{arg}: {who} module {path!r} '
                f'has {actual} output channels, the loss was built for '
                f'{who}_channels={declared}')

    def init_weights(self):
        super().init_weights()
        if not self.inherit:
            return
        teacher = self.teacher.state_dict()
        student = self.student.state_dict()
        copied, skipped = 0, []
        for key, value in teacher.items():
            if not any(key == p or key.startswith(p + '.')
                       for p in self.inherit):
                continue
            if key in student and student[key].shape == value.shape:
                student[key] = value.clone()
                # BN's num_batches_tracked (a scalar) always matches
                copied += int(value.is_floating_point())
            else:
                skipped.append(key)
        if not copied:
            raise ConfigError(f'inherit={self.inherit}: no teacher weight has '
                             'a student counterpart of the same shape')
        self.student.load_state_dict(student)
        print_log(f'inheritance init: {copied} tensors of {self.inherit} '
                  f'copied from the teacher'
                  + (f'; {len(skipped)} skipped (shape)' if skipped else ''),
                  logger='current')

    def train(self, mode=True):
        super().train(mode)
        self.teacher.eval()
        return self

    # -- steps ------------------------------------------------------------
    def _teacher_forward(self, inputs, data_samples):
        if all(p.split('.')[0] in ('backbone', 'neck')
               for p in self._teacher_paths):
            self.teacher.extract_feat(inputs)
        else:
            self.teacher._forward(inputs, data_samples)

    def loss(self, inputs, data_samples) -> Dict:
        self.recorder.clear()
        self.recorder.enabled = True
        with torch.no_grad():
            self._teacher_forward(inputs, data_samples)
        losses = self.student.loss(inputs, data_samples)
        task, _ = self.parse_losses(losses)
        distill_total = 0
        for name, loss in self.distill_losses.items():
            kwargs = {arg: self.recorder.get(key, index)
                      for arg, (key, index) in self.loss_inputs[name].items()}
            out = loss(**kwargs)
            if not isinstance(out, dict):
                out = dict(loss=out)
            for k, v in out.items():
                v = v * self.distill_weight
                losses[f'loss_distill_{name}_{k.removeprefix("loss_")}'] = v
                distill_total = distill_total + v.detach()
        self.recorder.clear()
        self.recorder.enabled = False
        losses['distill_task_ratio'] = (
            torch.as_tensor(distill_total) / task.detach().clamp(min=1e-12))
        return losses

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        return self.student(inputs, data_samples, mode=mode)
