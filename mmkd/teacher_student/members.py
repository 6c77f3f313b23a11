"""Named students and teachers: how a model declares its members.

A teacher-student model holds one or more students (trained) and teachers
(frozen, often the EMA of one student), each a module attribute named by the
config, so checkpoint keys read ``<name>.<parameter>``::

    students=dict(a=detector_cfg, b=detector_cfg),
    teachers=dict(ta=dict(ema_of='a'), tb=dict(ema_of='b'))

A teacher is ``dict(ema_of=STUDENT)`` (a copy of that student, moved by the
EMA hook), ``dict(ema_of=STUDENT, model=CFG)`` (its own architecture, same
parameter names) or ``dict(model=CFG, checkpoint=PATH)`` (frozen, never
updated; ``CFG`` may be a config file's path, whose ``model`` it takes).
"""
import os.path as osp
from typing import Dict, Optional

RESERVED = {'data_preprocessor', 'init_cfg', 'pseudo_labeller', 'training'}


def normalise_members(student, teacher, students: Optional[Dict],
                      teachers: Optional[Dict]):
    """``(students, teachers)``: ``{name: model cfg}`` and
    ``{name: dict(ema_of=..., model=...)}``, from either the single-pair
    arguments (``student`` / ``teacher``, the default names) or the named
    ones; every inconsistency is an error naming the member."""
    if students is None:
        if student is None:
            raise ValueError('a teacher-student model needs `student` or '
                             '`students=dict(name=cfg, ...)`')
        students = dict(student=student)
    elif student is not None:
        raise ValueError('give either `student` or `students`, not both')
    if teachers is None:
        if len(students) == 1:
            (only, ) = students
            teachers = dict(teacher=dict(ema_of=only, model=teacher))
        elif teacher is not None:
            raise ValueError('`teacher` is for a single student: name the '
                             'teachers with `teachers=dict(...)`')
        else:
            teachers = {}
    elif teacher is not None:
        raise ValueError('give either `teacher` or `teachers`, not both')

    names = list(students) + list(teachers)
    for name in names:
        if not str(name).isidentifier() or name in RESERVED:
            raise ValueError(f'member name {name!r} is not a valid attribute '
                             f'name (reserved: {sorted(RESERVED)})')
    if len(set(names)) != len(names):
        raise ValueError(f'a student and a teacher share a name: {names}')
    specs = {}
    for name, spec in teachers.items():
        spec = dict(spec)
        unknown = set(spec) - {'ema_of', 'model', 'checkpoint'}
        if unknown:
            raise ValueError(f'teacher {name!r}: unknown keys '
                             f'{sorted(unknown)} (expected ema_of, model, '
                             'checkpoint)')
        source = spec.get('ema_of')
        if source is not None and source not in students:
            raise ValueError(f'teacher {name!r} is the EMA of {source!r}, '
                             f'which is not a student ({list(students)})')
        if source is None and spec.get('model') is None:
            raise ValueError(f'teacher {name!r} needs `ema_of` (a student) '
                             'or `model` (a config)')
        if source is not None and spec.get('checkpoint'):
            raise ValueError(f'teacher {name!r}: an EMA teacher starts from '
                             'its student, it takes no `checkpoint`')
        specs[name] = spec
    return dict(students), specs


def plain_keys_to_members(state_dict: Dict, prefix: str, members: Dict):
    """A plain model's checkpoint (keys without a member's name, e.g. a
    supervised mmdet / mmseg detector) initialises every member whose
    parameters it names -- the student and every teacher; mmengine would
    otherwise warn about every key and keep random weights.  ``members``:
    ``name -> module`` (their keys are read only for a plain checkpoint);
    ``state_dict`` is renamed in place
    (``<prefix><key>`` -> ``<prefix><member>.<key>``).  A checkpoint that
    matches neither layout is an error."""
    own = [k for k in state_dict if k.startswith(prefix)]
    if not own or any(k[len(prefix):].split('.', 1)[0] in members
                      for k in own):
        return  # empty, or the teacher-student layout already
    plain = {k[len(prefix):]: state_dict.pop(k) for k in own}
    matched = 0
    for name, member in members.items():
        keys = member.state_dict().keys()
        hits = [k for k in plain if k in keys]
        matched += len(hits)
        for k in hits:
            state_dict[f'{prefix}{name}.{k}'] = plain[k]
    if not matched:
        raise ValueError(
            f'the checkpoint has no parameter of {list(members)} '
            f'(teacher-student keys) nor of a plain model (first '
            f'keys: {list(plain)[:3]})')


def check_pair_checkpoints(init_a, init_b):
    """Two pairs must start from checkpoints of one architecture and class
    list: compare the parameter names and shapes (and ``meta.dataset_meta
    .classes`` when both have it) of two ``Pretrained`` init checkpoints
    that exist, and name both files when they differ."""
    paths = [(i or {}).get('checkpoint') for i in (init_a, init_b)]
    if not all(isinstance(p, str) and osp.isfile(p) for p in paths):
        return
    from mmkd.utils.checkpoint_io import safe_torch_load
    ckpts = [safe_torch_load(p, map_location='cpu') for p in paths]
    states = [c.get('state_dict', c) for c in ckpts]
    shapes = [{k: tuple(v.shape) for k, v in s.items()
               if hasattr(v, 'shape')} for s in states]
    classes = [c.get('meta', {}).get('dataset_meta', {}).get('classes')
               for c in ckpts]
    if None not in classes and tuple(classes[0]) != tuple(classes[1]):
        raise ValueError(f'the two initial checkpoints have different class '
                         f'lists: {paths[0]} {list(classes[0])[:4]}... vs '
                         f'{paths[1]} {list(classes[1])[:4]}...')
    if shapes[0] != shapes[1]:
        diff = sorted(set(shapes[0].items()) ^ set(shapes[1].items()))
        raise ValueError(f'the two initial checkpoints are different '
                         f'architectures: {paths[0]} vs {paths[1]} (first '
                         f'difference: {diff[0][0]})')
