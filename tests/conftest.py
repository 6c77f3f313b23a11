import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# a small thread count keeps the tests predictable on a 2-core machine
os.environ.setdefault('OMP_NUM_THREADS', '2')


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: runs training or full-size models (minutes)')


@pytest.fixture(scope='session', autouse=True)
def mmkd_modules():
    from mmkd.utils import register_all_modules
    register_all_modules(init_default_scope=False)


@pytest.fixture(autouse=True)
def isolated_default_scope():
    """A test that sets mmengine's default scope (``init_default_scope``)
    must not change where the next test's registries look."""
    from mmengine.registry import DefaultScope
    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict = saved


@pytest.fixture(scope='session')
def demo_root(tmp_path_factory):
    """Tiny demo data sets made by tools/make_demo_data.py (the real
    generator, small counts)."""
    out = tmp_path_factory.mktemp('demo_data')
    subprocess.check_call([
        sys.executable, osp.join(ROOT, 'tools', 'make_demo_data.py'), '--out',
        str(out), '--coco-train', '60', '--coco-val', '12', '--city-train',
        '16', '--city-val', '4', '--cbct-train', '4', '--cbct-val', '2',
        '--cbct-labeled', '2', '--cbct-shape', '48', '48', '32'
    ], cwd=ROOT, stdout=subprocess.DEVNULL)
    return str(out)


def config_file(name):
    """The repository-relative path of the config named ``name`` (its file
    name, with or without ``.py``): under ``configs/`` (by method, the demo
    configs in ``<method>/demo/``) or the benchmark tools' experiment
    configs."""
    import glob
    name = name if name.endswith('.py') else name + '.py'
    found = sorted(
        glob.glob(osp.join(ROOT, 'configs', '**', name), recursive=True) +
        glob.glob(osp.join(ROOT, 'tools', 'analysis_tools', 'configs', name)))
    assert len(found) == 1, f'config {name}: {found or "not found"}'
    return osp.relpath(found[0], ROOT)


def load_config(rel_path, **overrides):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, rel_path))
    if overrides:
        cfg.merge_from_dict(overrides)
    return cfg


def point_det_config_at(cfg, data_root, train_ann=None):
    """Point a demo detection config at ``data_root/coco_demo``."""
    root = osp.join(data_root, 'coco_demo') + '/'
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key]['dataset']['data_root'] = root
    if train_ann:
        cfg.train_dataloader.dataset.ann_file = train_ann
    for key in ('val_evaluator', 'test_evaluator'):
        cfg[key]['ann_file'] = root + 'annotations/instances_val2017.json'
    return cfg


def point_semi_det_config_at(cfg, data_root):
    """Point a demo semi-supervised detection config (labelled and
    unlabelled sets, validation) at ``data_root/coco_demo``."""
    root = osp.join(data_root, 'coco_demo') + '/'
    for part in ('labeled', 'unlabeled'):
        cfg.train_dataloader.dataset[part].data_root = root
    cfg.val_dataloader.dataset.data_root = root
    cfg.val_evaluator.ann_file = root + 'annotations/instances_val2017.json'
    return cfg


def point_semi_seg_config_at(cfg, data_root):
    """Point a demo semi-supervised segmentation config (labelled and
    unlabelled sets, validation) at ``data_root/cityscapes_demo``."""
    root = osp.join(data_root, 'cityscapes_demo') + '/'
    for part in ('labeled', 'unlabeled'):
        cfg.train_dataloader.dataset[part].data_root = root
    cfg.val_dataloader.dataset.data_root = root
    return cfg


def run_tool(*args, env=None, timeout=900):
    """Run ``python tools/<args>`` from the repository root (training with
    ``--amp`` when ``MMKD_AMP=1``: tools/gpu_smoke.sh)."""
    full_env = dict(os.environ, **(env or {}))
    if os.environ.get('MMKD_AMP') == '1' and args[0] == 'tools/train.py':
        args = (*args, '--amp')
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def assert_plain_checkpoint_fills_members(model, plain, tmp_path):
    """Save ``plain`` (a model without teacher-student keys), load it into
    the teacher-student ``model`` as ``load_from`` does (strict), and check
    that every member now holds its weights."""
    import torch
    from mmengine.runner.checkpoint import load_checkpoint, save_checkpoint
    path = str(tmp_path / 'plain.pth')
    save_checkpoint(dict(state_dict=plain.state_dict()), path)
    load_checkpoint(model, path, strict=True)
    for name in model.member_names:
        member = getattr(model, name).state_dict()
        for key, value in plain.state_dict().items():
            assert torch.equal(member[key], value), (name, key)


# keys whose integer values are image sizes in mmdet / mmseg pipelines,
# data preprocessors and sliding-window test settings
IMAGE_SIZE_KEYS = ('crop_size', 'scale', 'size', 'stride')


def write_config(path, lines, ci_factor=4):
    """Write a test config made of ``lines`` to ``path``.

    In CI (``CI`` set) the images of a full-size config are made
    ``ci_factor`` times smaller in each side (resize scales, crops, the
    padding size and sliding windows): the architecture, losses, hooks and
    schedule stay the config's, the pixels are fewer (an R101 at 801 px
    crops costs minutes a step on 2 cores). Outside CI the config runs as
    written."""
    from mmengine.config import Config
    path = str(path)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    if not os.environ.get('CI') or ci_factor == 1:
        return path
    cfg = Config.fromfile(path)
    _shrink_image_sizes(cfg._cfg_dict, ci_factor)
    cfg.dump(path)
    return path


def _is_size(value):
    if isinstance(value, int):
        return not isinstance(value, bool)
    if isinstance(value, (list, tuple)) and value:
        return all(_is_size(v) for v in value)
    return False


def _shrink(value, factor):
    if isinstance(value, int):
        return max(32, value // factor)
    return type(value)(_shrink(v, factor) for v in value)


def _shrink_image_sizes(node, factor):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'global_batch':  # its size is images per step
                continue
            if key in IMAGE_SIZE_KEYS and _is_size(value):
                node[key] = _shrink(value, factor)
            else:
                _shrink_image_sizes(value, factor)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _shrink_image_sizes(value, factor)
