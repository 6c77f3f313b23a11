"""One optimiser per member: an ``OptimWrapperDict`` for methods whose
students step on their own (RAIL's four students), as GAN training does
with mmengine -- which builds such a dict only from ready-made wrappers."""
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict

from mmkd.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MemberOptimWrapperConstructor:
    """Builds ``OptimWrapperDict(name=wrapper of model.<name>)`` from
    ``optim_wrapper=dict(constructor='mmkd.MemberOptimWrapperConstructor',
    <name>=dict(type='OptimWrapper', optimizer=...), ...)``; every name must
    be a trainable member of the model."""

    def __init__(self, optim_wrapper_cfg, paramwise_cfg=None):
        if not optim_wrapper_cfg:
            raise ValueError('MemberOptimWrapperConstructor: name at least '
                             'one member, e.g. student=dict(type='
                             "'OptimWrapper', optimizer=...)")
        self.cfgs = dict(optim_wrapper_cfg)
        self.paramwise_cfg = paramwise_cfg

    def __call__(self, model) -> OptimWrapperDict:
        model = getattr(model, 'module', model)
        wrappers = {}
        for name, cfg in self.cfgs.items():
            member = getattr(model, name, None)
            if member is None or not any(
                    p.requires_grad for p in member.parameters()):
                raise ValueError(
                    f'optim_wrapper names {name!r}, which is not a trainable '
                    f'member of {type(model).__name__}')
            wrappers[name] = DefaultOptimWrapperConstructor(
                dict(cfg), self.paramwise_cfg)(member)
        return OptimWrapperDict(**wrappers)
