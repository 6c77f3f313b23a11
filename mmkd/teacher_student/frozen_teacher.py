"""Frozen teachers built from a config and a checkpoint
(``teachers=dict(teacher=dict(model=CFG, checkpoint=PATH))``)."""
import os.path as osp

from mmengine.runner.checkpoint import _load_checkpoint, load_state_dict

from mmkd.utils.errors import ConfigError

# prefixes of a teacher-student checkpoint whose part is the teacher:
# a distiller's or a semi-supervised model's ('teacher.' first)
MEMBER_PREFIXES = ('teacher.', 'student.')


def teacher_model_cfg(cfg):
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


def load_teacher_checkpoint(teacher, path: str):
    """Load ``path`` into ``teacher`` (strict): a plain mmdet / mmseg
    checkpoint, or a teacher-student one whose ``teacher.`` (else
    ``student.``) part is taken."""
    ckpt = _load_checkpoint(path, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    for prefix in MEMBER_PREFIXES:
        if any(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items()
                     if k.startswith(prefix)}
            break
    load_state_dict(teacher, state, strict=True)
    # mmengine's Runner calls model.init_weights() after building; the
    # recursive BaseModule.init_weights would re-initialise the teacher's
    # backbone and heads and throw these weights away. Marking the teacher
    # initialised makes BaseModule skip its whole subtree.
    teacher._is_init = True
