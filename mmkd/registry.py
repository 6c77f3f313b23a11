"""mmkd's registries (scope ``mmkd``).

They are children of mmengine's root registries, like mmdet's and mmseg's, so
``mmkd.X`` resolves from any OpenMMLab scope (a segmentation config with
``default_scope = 'mmseg'`` names ``type='mmkd.CityscapesDataset'``).  With
``default_scope = 'mmkd'`` a name that mmkd and mmengine lack is looked up in
mmdet's registry, so detection configs name mmkd, mmdet and mmengine types
side by side without prefixes.  mmseg is not a silent fallback: mmdet and
mmseg both register ``ResNet``, ``LoadAnnotations``, ``RandomCrop``... with
different meanings; segmentation configs use ``default_scope = 'mmseg'`` (or
``_scope_='mmseg'`` on a sub-config), the OpenMMLab convention for mixing
code bases.
"""
from importlib import import_module

from mmengine import registry as mmengine_registry
from mmengine.registry import Registry


class MMKDRegistry(Registry):
    """A registry whose unscoped names resolve mmkd → mmdet → mmengine.

    mmdet's registry comes before mmengine's root on purpose: the root holds
    mmcv's ``LoadAnnotations``, ``Resize``, ``RandomFlip``..., which a
    detection pipeline must not get instead of mmdet's.
    """

    fallback_scope = 'mmdet'

    def get(self, key):
        scope, real_key = self.split_scope_key(key)
        if scope is None or scope == self.scope:
            self.import_from_location()
            if real_key in self._module_dict:
                return self._module_dict[real_key]
            import_module(f'{self.fallback_scope}.registry')
            fallback = self._get_root_registry()._search_child(
                self.fallback_scope)
            obj = fallback.get(real_key) if fallback is not None else None
            if obj is not None:
                return obj
        return super().get(key)


_LOCATIONS = [
    'mmkd.datasets', 'mmkd.detection', 'mmkd.distillation', 'mmkd.engine',
    'mmkd.segmentation', 'mmkd.teacher_student', 'mmkd.volumetric'
]


def _child(name, parent):
    return MMKDRegistry(name, parent=parent, scope='mmkd',
                        locations=_LOCATIONS)


RUNNERS = _child('runner', mmengine_registry.RUNNERS)
RUNNER_CONSTRUCTORS = _child('runner constructor',
                             mmengine_registry.RUNNER_CONSTRUCTORS)
LOOPS = _child('loop', mmengine_registry.LOOPS)
HOOKS = _child('hook', mmengine_registry.HOOKS)
DATASETS = _child('dataset', mmengine_registry.DATASETS)
DATA_SAMPLERS = _child('data sampler', mmengine_registry.DATA_SAMPLERS)
TRANSFORMS = _child('transform', mmengine_registry.TRANSFORMS)
MODELS = _child('model', mmengine_registry.MODELS)
MODEL_WRAPPERS = _child('model_wrapper', mmengine_registry.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child('weight initializer',
                             mmengine_registry.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child('optimizer', mmengine_registry.OPTIMIZERS)
OPTIM_WRAPPERS = _child('optim_wrapper', mmengine_registry.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(
    'optimizer wrapper constructor',
    mmengine_registry.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child('parameter scheduler',
                          mmengine_registry.PARAM_SCHEDULERS)
METRICS = _child('metric', mmengine_registry.METRICS)
EVALUATOR = _child('evaluator', mmengine_registry.EVALUATOR)
TASK_UTILS = _child('task util', mmengine_registry.TASK_UTILS)
VISUALIZERS = _child('visualizer', mmengine_registry.VISUALIZERS)
VISBACKENDS = _child('vis_backend', mmengine_registry.VISBACKENDS)
LOG_PROCESSORS = _child('log_processor', mmengine_registry.LOG_PROCESSORS)
