"""``--cfg-options`` keys checked against the config before a run starts.

mmengine merges any key it is given: a misspelt one (``model.unsup_weigth``)
either adds a key that nothing reads -- the run trains with the default,
silently -- or reaches a constructor as an unexpected keyword argument, deep
in a traceback.  A key whose last part is missing where a close spelling
exists (among the keys of its dict and, for ``model``'s dicts with a
``type``, the arguments of that class) stops the run with the closest one.
A key with no close spelling is taken as new, as mmengine does.
"""
import difflib
import inspect

from .errors import ConfigError


def _init_arguments(cls):
    """The keyword arguments ``cls(...)`` accepts, following ``**kwargs``
    into the parents' ``__init__``."""
    names = set()
    for klass in inspect.getmro(cls):
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            break
        names |= {p.name for p in params
                  if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names - {'self'}


def _model_class(node):
    from mmengine.registry import MODELS
    type_ = node.get('type') if isinstance(node, dict) else None
    if not isinstance(type_, str):
        return None
    for name in (type_, f'mmkd.{type_}', f'mmdet.{type_}', f'mmseg.{type_}'):
        try:
            cls = MODELS.get(name)
        except Exception:  # noqa: BLE001 -- an unknown scope prefix
            cls = None
        if cls is not None:
            return cls
    return None


def check_cfg_options(cfg, options):
    """Raise :class:`ConfigError` for a ``--cfg-options`` key that looks
    like a misspelling of one the config (or the model class it configures)
    has. ``cfg``: the config before the options are merged."""
    root = getattr(cfg, '_cfg_dict', cfg)  # an mmengine Config is no dict
    for key in options or {}:
        node, done = root, []
        for part in key.split('.'):
            if isinstance(node, (list, tuple)):
                if not part.isdigit() or int(part) >= len(node):
                    break
                node, done = node[int(part)], done + [part]
                continue
            if not isinstance(node, dict):
                break
            if part in node:
                node, done = node[part], done + [part]
                continue
            candidates = set(node.keys())
            cls = _model_class(node) if done[:1] == ['model'] else None
            if cls is not None:
                args = _init_arguments(cls)
                if part in args:
                    break  # a constructor argument the config leaves out
                candidates |= args
            close = difflib.get_close_matches(part, sorted(candidates), n=1,
                                              cutoff=0.8)
            if close:
                where = '.'.join(done + [close[0]])
                owner = f' ({cls.__name__} takes {close[0]!r})' if cls \
                    else ''
                raise ConfigError(f'--cfg-options {key}: the config has no '
                                  f'{part!r} there; did you mean {where}?'
                                  f'{owner}')
            break
