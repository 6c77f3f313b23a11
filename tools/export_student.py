"""Export one model of a distillation or semi-supervised checkpoint as a
plain mmdet / mmseg checkpoint, with a plain config for it.

    python tools/export_student.py CONFIG CHECKPOINT OUT.pth \\
        [--model NAME] [--out-config OUT.py]

``CONFIG`` / ``CHECKPOINT``: an mmkd ``FeatureDistiller`` or
``TeacherStudentModel`` (Soft Teacher, …) config and one of its
checkpoints.  ``--model``: which member (default ``student``; ``teacher``,
or a named member such as ``ta`` of a model with ``students`` /
``teachers``; for semi-supervised runs the EMA teacher is usually the
better model).  ``OUT.pth`` holds only that model's ``state_dict`` (keys
without the member's prefix, no distillation modules, no optimiser)
and loads with ``mmdet.apis.init_detector`` / ``mmseg.apis.init_model`` or
their ``tools/test.py``; the written config (default ``OUT.py``) has the
model and the val / test settings of ``CONFIG`` and nothing mmkd-specific
(mmkd's NMS, ``'mmkd_nms'``, becomes mmcv's ``'nms'``: the same results).
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import _load_checkpoint

from mmkd.utils import register_all_modules, report_input_errors
from mmkd.utils.errors import DataError, check_file

_TRAIN_KEYS = ('train_dataloader', 'train_cfg', 'optim_wrapper',
               'param_scheduler', 'auto_scale_lr', 'custom_hooks',
               'load_from', 'resume',
               # helper variables of mmkd's configs
               'detector', 'student', 'teacher', 'distill_losses')


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('out')
    p.add_argument('--model', default='student',
                   help='the member to export (student, teacher, or a name)')
    p.add_argument('--out-config', default=None)
    return p.parse_args()


def member_configs(model):
    """``{member name: model config}`` of a distiller or teacher-student
    model config (a teacher that is the EMA of a student is built like it)."""
    students = dict(model.get('students') or {})
    if model.get('student') is not None:
        students['student'] = model['student']
    teachers = model.get('teachers')
    if teachers is None:
        teachers = dict(teacher=dict(model=model.get('teacher'),
                                     ema_of='student'))
    for pair in ('a', 'b'):  # Dual Mean-Teacher's two pairs
        if model.get(f'student_{pair}') is not None:
            students[f'student_{pair}'] = model[f'student_{pair}']
            teachers[f'teacher_{pair}'] = dict(ema_of=f'student_{pair}')
    members = dict(students)
    for name, spec in teachers.items():
        members[name] = spec.get('model') or students.get(spec.get('ema_of'))
    return {k: v for k, v in members.items() if v is not None}


def model_config(cfg, which):
    members = member_configs(cfg.model)
    if which not in members:
        raise DataError(f'{cfg.filename}: model {cfg.model.get("type")} has '
                        f'no member {which!r} (it has {sorted(members)})')
    sub = members[which]
    if isinstance(sub, str):  # a distiller's teacher given as a config file
        from mmkd.teacher_student.frozen_teacher import teacher_model_cfg
        sub = teacher_model_cfg(sub)
    sub = dict(sub)
    sub.pop('init_cfg', None)  # the exported weights replace any init
    return sub


def mmcv_nms_types(node):
    """``node`` with every ``type='mmkd_nms'`` replaced by mmcv's ``'nms'``
    (the same results; plain mmdet does not know mmkd's name)."""
    if isinstance(node, dict):
        return {k: ('nms' if k == 'type' and v == 'mmkd_nms'
                    else mmcv_nms_types(v)) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(mmcv_nms_types(v) for v in node)
    return node


def plain_config(cfg, model):
    """The model plus val / test settings, in mmdet's or mmseg's scope."""
    out = Config(dict(cfg.to_dict()))
    for key in _TRAIN_KEYS:
        out.pop(key, None)
    out.model = mmcv_nms_types(model)
    scope = cfg.get('default_scope', 'mmdet')
    out.default_scope = 'mmseg' if scope == 'mmseg' else 'mmdet'
    for key in ('val_cfg', 'test_cfg'):
        if out.get(key) is not None:
            out[key] = dict(type='ValLoop' if key == 'val_cfg'
                            else 'TestLoop')
    hooks = out.get('default_hooks', {})
    if 'checkpoint' in hooks:
        hooks['checkpoint'].pop('save_best', None)
    return out


def export(config, checkpoint, out, which='student', out_config=None):
    check_file(checkpoint, 'checkpoint', hint='give a checkpoint of CONFIG')
    cfg = Config.fromfile(config)
    sub_config = model_config(cfg, which)
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    prefix = which + '.'
    weights = {k[len(prefix):]: v for k, v in state.items()
               if k.startswith(prefix)}
    if not weights:
        raise DataError(f'{checkpoint}: no {prefix}* weights (keys start '
                        f'with {sorted({k.split(".")[0] for k in state})})')
    meta = dict(ckpt.get('meta', {}))
    meta.update(exported_from=osp.abspath(checkpoint), exported_model=which)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = out + '.tmp'
    torch.save(dict(meta=meta, state_dict=weights), tmp)
    os.replace(tmp, out)
    out_config = out_config or osp.splitext(out)[0] + '.py'
    plain_config(cfg, sub_config).dump(out_config)
    return out, out_config


def main():
    args = parse_args()
    register_all_modules(init_default_scope=False)
    with report_input_errors():
        ckpt, cfg = export(args.config, args.checkpoint, args.out,
                           args.model, args.out_config)
    print(f'{args.model} weights -> {ckpt}\nconfig -> {cfg}')


if __name__ == '__main__':
    main()
