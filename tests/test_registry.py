import glob
import os.path as osp

import pytest
from mmengine.registry import DefaultScope

from conftest import ROOT, load_config


def test_mmkd_registries_are_children_of_mmengine():
    from mmengine.registry import MODELS as ROOT_MODELS

    from mmkd.registry import MODELS
    assert MODELS.scope == 'mmkd'
    assert MODELS.parent is ROOT_MODELS
    assert ROOT_MODELS._children['mmkd'] is MODELS


def test_default_scope_mmkd_finds_mmkd_mmdet_and_mmengine_types():
    from mmdet.models import FasterRCNN
    from mmdet.models.backbones import ResNet as DetResNet
    from mmengine.hooks import CheckpointHook

    from mmkd.engine import RNGStateHook
    from mmkd.registry import HOOKS, MODELS
    from mmkd.volumetric import VNet
    assert MODELS.get('VNet') is VNet
    assert MODELS.get('FasterRCNN') is FasterRCNN
    # an ambiguous name resolves to mmdet's, never silently to mmseg's
    assert MODELS.get('ResNet') is DetResNet
    assert HOOKS.get('CheckpointHook') is CheckpointHook
    assert HOOKS.get('RNGStateHook') is RNGStateHook
    assert MODELS.get('NoSuchModel') is None


def test_detection_transforms_are_mmdet_not_mmcv():
    # mmengine's root holds mmcv's LoadAnnotations / Resize / RandomFlip,
    # which do not handle boxes the way mmdet's models need
    from mmdet.datasets import transforms as det_t

    from mmkd.datasets.transforms import LoadImageFromFile
    from mmkd.registry import TRANSFORMS
    assert TRANSFORMS.get('LoadAnnotations') is det_t.LoadAnnotations
    assert TRANSFORMS.get('Resize') is det_t.Resize
    assert TRANSFORMS.get('RandomFlip') is det_t.RandomFlip
    assert TRANSFORMS.get('LoadImageFromFile') is LoadImageFromFile


def test_mmkd_types_resolve_from_the_mmseg_scope():
    from mmseg.datasets.transforms import LoadAnnotations as SegLoad
    from mmseg.registry import DATASETS, TRANSFORMS

    from mmkd.datasets import CityscapesDataset
    with DefaultScope.overwrite_default_scope('mmseg'):
        assert DATASETS.get('mmkd.CityscapesDataset') is CityscapesDataset
        assert TRANSFORMS.get('LoadAnnotations') is SegLoad


def test_mmkd_dataset_builds_from_the_mmdet_registry():
    from mmdet.registry import DATASETS

    from mmkd.datasets import CocoDataset
    # what build_from_cfg does under default_scope='mmkd'
    with DATASETS.switch_scope_and_registry('mmkd') as registry:
        assert registry.get('CocoDataset') is CocoDataset


CONFIGS = sorted(
    osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'configs', '**',
                                                     '*.py'), recursive=True)
    if '_base_' not in p)


@pytest.mark.parametrize('config', CONFIGS)
def test_every_config_builds_its_model(config):
    from mmengine.registry import MODELS, init_default_scope
    cfg = load_config(config)
    init_default_scope(cfg.get('default_scope', 'mmkd'))
    if 'teacher_ckpt' in cfg.model:  # distillers: no teacher weights here
        cfg.model.teacher_ckpt = None
    # as mmengine's Runner does: a model dict without a data_preprocessor
    # gets the config's top-level one
    if 'data_preprocessor' in cfg:
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(cfg.model)
    if hasattr(model, 'student'):  # the wrapper pads/normalizes as its student
        ours_dp = model.data_preprocessor  # MultiBranch wraps the real one
        ours_dp = getattr(ours_dp, 'data_preprocessor', ours_dp)
        for attr in ('size', 'size_divisor', 'pad_size_divisor', 'mean'):
            ours = getattr(ours_dp, attr, None)
            theirs = getattr(model.student.data_preprocessor, attr, None)
            assert str(ours) == str(theirs), (attr, ours, theirs)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params > 10_000
    assert cfg.train_dataloader.dataset.type
    assert cfg.val_evaluator
