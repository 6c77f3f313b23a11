"""mmkd's registries (scope ``mmkd``).

Each registry is a child of mmdet's (which are children of mmengine's), so a
config with ``default_scope = 'mmkd'`` names mmkd, mmdet and mmengine types
without prefixes.  mmseg types are named with their scope, ``mmseg.X``, or a
sub-config carries ``_scope_='mmseg'`` -- the OpenMMLab convention for mixing
code bases (mmdet and mmseg both register ``ResNet``, ``LoadAnnotations``,
``CrossEntropyLoss``... with different meanings, so one of them must win by
name and we pick detection, the headline of the project).  Segmentation
configs set ``default_scope = 'mmseg'`` and name mmkd types ``mmkd.X``.
"""
from mmdet.registry import DATA_SAMPLERS as MMDET_DATA_SAMPLERS
from mmdet.registry import DATASETS as MMDET_DATASETS
from mmdet.registry import EVALUATOR as MMDET_EVALUATOR
from mmdet.registry import HOOKS as MMDET_HOOKS
from mmdet.registry import LOOPS as MMDET_LOOPS
from mmdet.registry import METRICS as MMDET_METRICS
from mmdet.registry import MODEL_WRAPPERS as MMDET_MODEL_WRAPPERS
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.registry import OPTIM_WRAPPERS as MMDET_OPTIM_WRAPPERS
from mmdet.registry import PARAM_SCHEDULERS as MMDET_PARAM_SCHEDULERS
from mmdet.registry import TASK_UTILS as MMDET_TASK_UTILS
from mmdet.registry import TRANSFORMS as MMDET_TRANSFORMS
from mmdet.registry import VISUALIZERS as MMDET_VISUALIZERS
from mmengine.registry import Registry

_LOCATIONS = ['mmkd.datasets', 'mmkd.engine', 'mmkd.volumetric']

DATASETS = Registry('dataset', parent=MMDET_DATASETS, scope='mmkd',
                    locations=_LOCATIONS)
DATA_SAMPLERS = Registry('data sampler', parent=MMDET_DATA_SAMPLERS,
                         scope='mmkd', locations=_LOCATIONS)
TRANSFORMS = Registry('transform', parent=MMDET_TRANSFORMS, scope='mmkd',
                      locations=_LOCATIONS)
MODELS = Registry('model', parent=MMDET_MODELS, scope='mmkd',
                  locations=_LOCATIONS)
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMDET_MODEL_WRAPPERS,
                          scope='mmkd', locations=_LOCATIONS)
TASK_UTILS = Registry('task util', parent=MMDET_TASK_UTILS, scope='mmkd',
                      locations=_LOCATIONS)
HOOKS = Registry('hook', parent=MMDET_HOOKS, scope='mmkd',
                 locations=_LOCATIONS)
LOOPS = Registry('loop', parent=MMDET_LOOPS, scope='mmkd',
                 locations=_LOCATIONS)
METRICS = Registry('metric', parent=MMDET_METRICS, scope='mmkd',
                   locations=_LOCATIONS)
EVALUATOR = Registry('evaluator', parent=MMDET_EVALUATOR, scope='mmkd',
                     locations=_LOCATIONS)
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMDET_OPTIM_WRAPPERS,
                          scope='mmkd', locations=_LOCATIONS)
PARAM_SCHEDULERS = Registry('parameter scheduler',
                            parent=MMDET_PARAM_SCHEDULERS, scope='mmkd',
                            locations=_LOCATIONS)
VISUALIZERS = Registry('visualizer', parent=MMDET_VISUALIZERS, scope='mmkd',
                       locations=_LOCATIONS)
