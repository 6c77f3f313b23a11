import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# one thread per core: 2 threads alone, 1 in each of 2 pytest-xdist
# workers (4 OpenMP threads on 2 cores wait on each other at every barrier)
os.environ.setdefault('OMP_NUM_THREADS', str(max(1, min(2, (
    os.cpu_count() or 2) // int(os.environ.get('PYTEST_XDIST_WORKER_COUNT',
                                               1))))))


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: runs training or full-size models (minutes)')


def pytest_collection_modifyitems(config, items):
    """Longest first: the docs pages' command runs, then the other slow
    tests, then the rest, so that pytest-xdist's workers (dealt tests in
    this order) finish together instead of one waiting on a last long
    test."""
    def rank(item):
        if item.get_closest_marker('slow') is None:
            return 2
        return 0 if 'test_page_commands_run_in_order' in item.name else 1
    items.sort(key=rank)


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


@pytest.fixture(autouse=True)
def iteration_zero():
    """Every test starts at iteration 0: one that sets the runner's
    iteration (ramps, threshold updates read it) must not move the next
    test's losses."""
    from mmengine.logging import MessageHub
    MessageHub.get_current_instance().update_info('iter', 0)


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


def _point_semi_at(cfg, root):
    """Labelled and unlabelled training sets and validation at ``root``."""
    for part in ('labeled', 'unlabeled'):
        cfg.train_dataloader.dataset[part].data_root = root
    cfg.val_dataloader.dataset.data_root = root
    return cfg


def point_semi_det_config_at(cfg, data_root):
    """Point a demo semi-supervised detection config (labelled and
    unlabelled sets, validation) at ``data_root/coco_demo``."""
    root = osp.join(data_root, 'coco_demo') + '/'
    cfg.val_evaluator.ann_file = root + 'annotations/instances_val2017.json'
    return _point_semi_at(cfg, root)


def point_semi_seg_config_at(cfg, data_root):
    """Point a demo semi-supervised segmentation config (labelled and
    unlabelled sets, validation) at ``data_root/cityscapes_demo``."""
    return _point_semi_at(cfg, osp.join(data_root, 'cityscapes_demo') + '/')


def run_tool(*args, env=None, timeout=900):
    """Run ``python tools/<args>`` from the repository root (training with
    ``--amp`` when ``MMKD_AMP=1``: tools/gpu_smoke.sh), as a child forked
    from this test process's tool server (``tests/tool_server.py``: the
    libraries imported once; ``MMKD_TEST_FORK=0`` starts a new interpreter
    each time instead)."""
    full_env = dict(os.environ, **(env or {}))
    if os.environ.get('MMKD_AMP') == '1' and args[0] == 'tools/train.py':
        args = (*args, '--amp')
    if os.environ.get('MMKD_TEST_FORK') == '0' or not args[0].endswith('.py'):
        return subprocess.run([sys.executable, *args], cwd=ROOT,
                              env=full_env, capture_output=True, text=True,
                              timeout=timeout)
    return tool_server().run(list(args), full_env, timeout)


class _ToolServer:
    """One ``tests/tool_server.py`` per test process, on a Unix socket."""

    def __init__(self):
        import tempfile
        self.folder = tempfile.mkdtemp(prefix='mmkd-tools-')
        self.socket = osp.join(self.folder, 'socket')
        self.process = subprocess.Popen(
            [sys.executable, osp.join(ROOT, 'tests', 'tool_server.py'),
             self.socket], cwd=ROOT, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == 'ready'

    def run(self, args, env, timeout):
        import json
        import socket
        import tempfile
        with tempfile.TemporaryFile('w+', errors='replace') as out, \
                tempfile.TemporaryFile('w+', errors='replace') as err, \
                open(os.devnull) as stdin, \
                socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(self.socket)
            request = dict(args=args, env=env, cwd=ROOT, timeout=timeout)
            socket.send_fds(conn, [json.dumps(request).encode() + b'\n'],
                            [stdin.fileno(), out.fileno(), err.fileno()])
            answer = b''
            while not answer.endswith(b'\n'):
                chunk = conn.recv(4096)
                assert chunk, 'the tool server stopped'
                answer += chunk
            answer = json.loads(answer)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        if answer['timed_out']:
            raise subprocess.TimeoutExpired([sys.executable, *args], timeout,
                                            stdout, stderr)
        return subprocess.CompletedProcess([sys.executable, *args],
                                           answer['rc'], stdout, stderr)

    def stop(self):
        import shutil
        self.process.terminate()
        self.process.wait(timeout=60)
        self.process.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)


_SERVER = []


def tool_server():
    """This test process's tool server (started on first use)."""
    if not _SERVER or _SERVER[0].process.poll() is not None:
        _SERVER[:] = [_ToolServer()]
    return _SERVER[0]


def pytest_sessionfinish(session, exitstatus):
    for server in _SERVER:
        server.stop()


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
# keys whose values are 3-D patch sizes in MONAI transforms and sliding
# windows (CBCT configs)
VOLUME_SIZE_KEYS = ('spatial_size', 'roi_size')


def write_config(path, lines, ci_factor=4):
    """Write a test config made of ``lines`` to ``path``.

    In CI (``CI`` set) the images of a full-size config are made
    ``ci_factor`` times smaller in each side (resize scales, crops, the
    padding size and sliding windows): the architecture, losses, hooks and
    schedule stay the config's, the pixels are fewer (an R101 at 801 px
    crops costs minutes a step on 2 cores). A 3-D config's patches are
    shrunk by ``shrink_for_ci``'s rule. Outside CI the config runs as
    written."""
    from mmengine.config import Config
    path = str(path)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    if not os.environ.get('CI') or ci_factor == 1:
        return path
    cfg = Config.fromfile(path)
    shrink_for_ci(cfg._cfg_dict, ci_factor)
    cfg.dump(path)
    return path


def shrink_for_ci(cfg_dict, factor=4):
    """Fewer pixels for a CI run of a full-size config: 2-D image sizes
    ``factor`` times smaller; a 3-D (CBCT) config's patches and sliding
    window halved per side, rounded down to a multiple of 16 (V-Net's four
    stride-2 stages): 112 x 112 x 80 -> 48 x 48 x 32, the demo's patch."""
    if 'Volume' in str(cfg_dict.get('val_evaluator')):
        _shrink_volume_sizes(cfg_dict)
    else:
        _shrink_image_sizes(cfg_dict, factor)


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


def _shrink_volume_sizes(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in VOLUME_SIZE_KEYS and _is_size(value) and \
                    not isinstance(value, int) and len(value) == 3:
                node[key] = type(value)(max(16, v // 2 // 16 * 16)
                                        for v in value)
            else:
                _shrink_volume_sizes(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _shrink_volume_sizes(value)


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
