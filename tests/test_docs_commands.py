"""Every command of README.md and docs/ runs, in the order the page gives
them, on tiny data laid out like the real data sets. Sybil finds the
pages' code blocks; this file decides how each runs.

What the harness changes in a page's commands, and nothing else:

- each page runs in a fresh folder holding ``configs/`` and ``tools/``
  (links to this repository's) and the tiny data sets its ``DATA`` entry
  names, made from the demo generator's images;
- ``tools/train.py``, ``tools/test.py`` and ``tools/export_student.py`` get a
  short copy of CONFIG in its place (same file name): ``ITERS`` iterations
  (or one epoch) without validation (the pages' ``tools/test.py`` commands
  evaluate what was trained), no loader workers, no
  downloads (ImageNet ``init_cfg`` / ``pretrained`` off), and in CI images
  four times smaller and 3-D patches halved (``conftest.shrink_for_ci``).
  ``train_cfg.max_iters=`` / ``val_interval=`` given on the command line
  are set to the short values, and ``tools/train.py`` gets
  ``--work-dir work_dirs/<config name>`` (mmengine's default) when the page
  gives none;
- ``python tools/<x>.py`` runs as a child forked from the tests' tool server
  (``tests/python_shim.py``; the libraries imported once), as the tests'
  ``run_tool`` does (``MMKD_TEST_FORK=0``: a new interpreter each time);
- ``tools/make_demo_data.py`` gets the small counts of the tests' demo data;
- a ``python`` block whose first line is ``# <path>.py`` is written to that
  path (a config the page asks you to write); other ``python`` blocks are
  config fragments: compiled, not run;
- a block after ``<!-- skip: next "reason" -->`` is not run; the test
  prints these blocks with their reasons (``-rs`` / ``-s``), and a skip
  without a reason fails.
"""
import glob
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time
import unittest
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, shrink_for_ci, tool_server

ITERS = 1
NO_VAL = 10**6  # the page's tools/test.py commands evaluate
LANGUAGES = ('bash', 'python', 'text')
PAGES = ['README.md', 'tools/analysis_tools/README.md'] + sorted(
    osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'configs', '*',
                                                    'README.md'))) + sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'docs', '**', '*.md'), recursive=True))
# the tiny data sets each page's commands read ('demo' data is made by the
# page's own tools/make_demo_data.py command)
DATA = {
    'docs/get_started.md': ['coco'],
    'docs/user_guides/own_data.md': ['my_coco', 'cityscapes', 'cbct'],
}
DEMO_COUNTS = ['--coco-train', '60', '--coco-val', '12', '--city-train',
               '16', '--city-val', '4', '--cbct-train', '4', '--cbct-val',
               '2', '--cbct-labeled', '2', '--cbct-shape', '48', '48', '32']
HUB = ('torchvision://', 'open-mmlab://', 'mmcls://', 'mmpretrain://',
       'http://', 'https://')
TOOL = re.compile(
    r'(python tools/(train|test|export_student)\.py)\s+(\S+\.py)')


# -- the pages ---------------------------------------------------------------
class _Fence:
    """Sybil's evaluator for one fence language: running is this file's
    job, so it only tags the block with its language."""

    def __init__(self, language):
        self.language = language

    def __call__(self, example):
        return None


def blocks(page):
    """(language, text, line, skip reason or None) of each code block, in
    the page's order."""
    from sybil import Sybil
    from sybil.parsers.markdown import CodeBlockParser, SkipParser
    parsers = [CodeBlockParser(language=lang, evaluator=_Fence(lang))
               for lang in LANGUAGES]
    document = Sybil(parsers=parsers + [SkipParser()]).parse(
        Path(osp.join(ROOT, page)))
    out = []
    for example in document:
        skip = None
        try:
            example.evaluate()
        except unittest.SkipTest as e:
            skip = str(e)
        fence = example.region.evaluator
        if isinstance(fence, _Fence):
            out.append((fence.language, str(example.region.parsed),
                        example.line, skip))
    return out


def runnable(page):
    return any(lang == 'bash' and skip is None
               for lang, _, _, skip in blocks(page))


@pytest.mark.parametrize('page', PAGES)
def test_page_fences_are_known_and_skips_give_a_reason(page):
    """Every fenced block is bash (run), python (a config: written or
    compiled) or text (output, trees); a skipped command says why."""
    with open(osp.join(ROOT, page)) as f:
        text = f.read()
    fences = re.findall(r'^\s*```(\S*)\s*$', text, flags=re.M)
    openings = fences[0::2]
    assert all(lang in LANGUAGES for lang in openings), (page, openings)
    for m in re.finditer(r'<!-- skip: next(.*?)-->', text):
        assert m.group(1).strip().strip('"'), f'{page}: a skip needs a reason'
    for language, source, line, skip in blocks(page):
        if language == 'python' and skip is None:
            compile(source, f'{page}:{line}', 'exec')


@pytest.mark.parametrize('page', PAGES)
def test_page_links_resolve(page):
    with open(osp.join(ROOT, page)) as f:
        text = f.read()
    for target in re.findall(r'\]\(([^)#\s]+)(?:#[^)]*)?\)', text):
        if re.match(r'[a-z]+://', target):
            continue
        path = osp.normpath(osp.join(ROOT, osp.dirname(page), target))
        assert osp.exists(path), f'{page}: link to {target} does not resolve'


@pytest.mark.slow
@pytest.mark.parametrize('page', [p for p in PAGES if runnable(p)])
def test_page_commands_run_in_order(page, demo_root, tmp_path):
    box = str(tmp_path / 'box')
    os.makedirs(box)
    for name in ('configs', 'tools'):
        os.symlink(osp.join(ROOT, name), osp.join(box, name))
    for kind in DATA.get(page, []):
        MAKERS[kind](demo_root, osp.join(box, 'data'))
    env = dict(os.environ, PATH=osp.dirname(sys.executable) + os.pathsep +
               os.environ.get('PATH', ''))
    if os.environ.get('MMKD_TEST_FORK') != '0':
        # `python tools/<x>.py` forked from the tool server (conftest)
        shim = osp.join(box, '.bin', 'python')
        os.makedirs(osp.dirname(shim))
        with open(shim, 'w') as f:
            f.write(f'#!/bin/sh\nexec "{sys.executable}" '
                    f'"{osp.join(ROOT, "tests", "python_shim.py")}" "$@"\n')
        os.chmod(shim, 0o755)
        env.update(PATH=osp.dirname(shim) + os.pathsep + env['PATH'],
                   MMKD_TOOL_SERVER=tool_server().socket,
                   MMKD_REAL_PYTHON=sys.executable)
    for language, source, line, skip in blocks(page):
        if skip is not None:
            print(f'{page}:{line}: not run ({skip})')
            continue
        if language == 'python':
            first = source.splitlines()[0]
            m = re.match(r'#\s*(\S+\.py)\s*$', first)
            if m:
                path = osp.join(box, m.group(1))
                os.makedirs(osp.dirname(path), exist_ok=True)
                with open(path, 'w') as f:
                    f.write(source)
            continue
        if language != 'bash':
            continue
        script = rewrite(source, box)
        start = time.perf_counter()
        r = subprocess.run(['bash', '-euo', 'pipefail', '-c', script],
                           cwd=box, env=env, capture_output=True, text=True,
                           timeout=1800)
        assert r.returncode == 0, (
            f'{page}:{line}: the block failed (rc {r.returncode})\n'
            f'{source}\n--- as run ---\n{script}\n--- output ---\n'
            f'{(r.stdout + r.stderr)[-5000:]}')
        print(f'{page}:{line}: {time.perf_counter() - start:.0f} s')


# -- the commands ------------------------------------------------------------
def rewrite(source, box):
    lines = source.replace('\\\n', ' ').splitlines()
    out = []
    for line in lines:
        if line.lstrip().startswith('#') or not line.strip():
            continue
        line = re.sub(r'train_cfg\.max_iters=\d+', f'train_cfg.max_iters='
                      f'{ITERS}', line)
        line = re.sub(r'train_cfg\.val_interval=\d+',
                      f'train_cfg.val_interval={NO_VAL}', line)
        m = TOOL.search(line)
        if m:
            config = m.group(3)
            short = short_config(osp.join(box, config), box)
            line = line[:m.start(3)] + short + line[m.end(3):]
            if m.group(2) == 'train' and '--work-dir' not in line:
                stem = osp.splitext(osp.basename(config))[0]
                line = line.replace(
                    short, f'{short} --work-dir work_dirs/{stem}', 1)
            if m.group(2) == 'train' and os.environ.get('MMKD_AMP') == '1':
                line = line.replace(short, f'{short} --amp', 1)  # GPU smoke
        if 'tools/make_demo_data.py' in line:
            line += ' ' + ' '.join(DEMO_COUNTS)
        out.append(line)
    return '\n'.join(out)


def short_config(path, box):
    """The short copy of the config at ``path`` (see the module's
    docstring), under ``<box>/.short/`` with the same file name."""
    from mmengine.config import Config
    cfg = Config.fromfile(path)
    loop = cfg.get('train_cfg') or {}
    if 'max_epochs' in loop or 'Epoch' in loop.get('type', ''):
        cfg.train_cfg.update(max_epochs=1, val_interval=NO_VAL)
    else:
        cfg.train_cfg.update(max_iters=ITERS, val_interval=NO_VAL)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            cfg[key].update(num_workers=0, persistent_workers=False)
    if cfg.get('default_hooks', {}).get('logger'):
        cfg.default_hooks.logger.interval = 1
    _no_downloads(cfg._cfg_dict)
    if os.environ.get('CI'):
        shrink_for_ci(cfg._cfg_dict, 4)
    out = osp.join(box, '.short', osp.basename(path))
    os.makedirs(osp.dirname(out), exist_ok=True)
    cfg.dump(out)
    return osp.relpath(out, box)


def _no_downloads(node):
    if isinstance(node, dict):
        init = node.get('init_cfg')
        if isinstance(init, dict) and str(init.get('checkpoint', '')
                                          ).startswith(HUB):
            node['init_cfg'] = None
        if str(node.get('pretrained', '')).startswith(HUB):
            node['pretrained'] = None
        for value in node.values():
            _no_downloads(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _no_downloads(value)


# -- the tiny data sets ------------------------------------------------------
def _demo_coco(demo_root, split):
    src = osp.join(demo_root, 'coco_demo')
    with open(osp.join(src, 'annotations', f'instances_{split}.json')) as f:
        return src, json.load(f)


def _write_coco(images, annotations, categories, ann_path, src_dir,
                img_dir):
    ids = {im['id'] for im in images}
    os.makedirs(img_dir, exist_ok=True)
    for im in images:
        shutil.copy(osp.join(src_dir, im['file_name']),
                    osp.join(img_dir, im['file_name']))
    os.makedirs(osp.dirname(ann_path), exist_ok=True)
    with open(ann_path, 'w') as f:
        json.dump(dict(images=images, categories=categories,
                       annotations=[a for a in annotations
                                    if a['image_id'] in ids]), f)


def make_coco(demo_root, data):
    """``data/coco`` in COCO 2017's layout with COCO's 80 category names
    (the demo shapes relabelled as the first four): 10 training images
    (fold 1 of 10 % is one of them) and 2 validation images."""
    from mmdet.datasets import CocoDataset
    names = CocoDataset.METAINFO['classes']
    categories = [dict(id=i + 1, name=n) for i, n in enumerate(names)]
    for split, n in (('train2017', 10), ('val2017', 2)):
        src, coco = _demo_coco(demo_root, split)
        annotated = {a['image_id'] for a in coco['annotations']}
        images = [im for im in coco['images'] if im['id'] in annotated][:n]
        _write_coco(images, coco['annotations'], categories,
                    osp.join(data, 'coco', 'annotations',
                             f'instances_{split}.json'),
                    osp.join(src, split), osp.join(data, 'coco', split))


def make_my_coco(demo_root, data):
    """``data/my_coco``: three of the demo's classes in two COCO JSON files
    over one image folder, and a folder of unlabelled images."""
    root = osp.join(data, 'my_coco')
    src, coco = _demo_coco(demo_root, 'train2017')
    keep = [c for c in coco['categories']
            if c['name'] in ('circle', 'triangle', 'rectangle')]
    ids = {c['id'] for c in keep}
    anns = [a for a in coco['annotations'] if a['category_id'] in ids]
    annotated = sorted({a['image_id'] for a in anns})
    images = {im['id']: im for im in coco['images']}
    chosen = [images[i] for i in annotated[:10]]
    _write_coco(chosen[:8], anns, keep,
                osp.join(root, 'annotations', 'train.json'),
                osp.join(src, 'train2017'), osp.join(root, 'images'))
    _write_coco(chosen[8:], anns, keep,
                osp.join(root, 'annotations', 'val.json'),
                osp.join(src, 'train2017'), osp.join(root, 'images'))
    unlabelled = [im for im in coco['images']
                  if im['id'] not in set(annotated[:10])][:6]
    os.makedirs(osp.join(root, 'unlabeled'))
    for im in unlabelled:
        shutil.copy(osp.join(src, 'train2017', im['file_name']),
                    osp.join(root, 'unlabeled', im['file_name']))


def make_cityscapes(demo_root, data):
    """``data/cityscapes`` as Cityscapes ships it: label-id PNGs
    (``*_gtFine_labelIds.png``), no train ids yet."""
    import cv2
    sys.path.insert(0, osp.join(ROOT, 'tools', 'dataset_converters'))
    from cityscapes import ID_TO_TRAIN_ID
    to_id = np.zeros(256, np.uint8)  # 255 (ignored) -> 0 'unlabeled'
    for label_id, train_id in ID_TO_TRAIN_ID.items():
        to_id[train_id] = label_id
    src = osp.join(demo_root, 'cityscapes_demo')
    dst = osp.join(data, 'cityscapes')
    for img in glob.glob(osp.join(src, 'leftImg8bit', '*', '*', '*.png')):
        rel = osp.relpath(img, osp.join(src, 'leftImg8bit'))
        os.makedirs(osp.dirname(osp.join(dst, 'leftImg8bit', rel)),
                    exist_ok=True)
        shutil.copy(img, osp.join(dst, 'leftImg8bit', rel))
        stem = rel[:-len('_leftImg8bit.png')]
        train_ids = cv2.imread(osp.join(src, 'gtFine', stem +
                                        '_gtFine_labelTrainIds.png'),
                               cv2.IMREAD_UNCHANGED)
        out = osp.join(dst, 'gtFine', stem + '_gtFine_labelIds.png')
        os.makedirs(osp.dirname(out), exist_ok=True)
        cv2.imwrite(out, to_id[train_ids])


def make_cbct(demo_root, data):
    """``data/cbct``: 4 scans in HU, 3 of them with a label volume."""
    import nibabel as nib
    rng = np.random.default_rng(0)
    root = osp.join(data, 'cbct')
    for sub in ('images', 'labels'):
        os.makedirs(osp.join(root, sub))
    for k in range(4):
        shape = (64, 60, 40)
        img = rng.normal(800, 200, shape).astype(np.int16)
        lab = np.zeros(shape, np.uint8)
        lab[20:40, 20:40, 10:30] = 1
        img[lab > 0] += 1200
        aff = np.diag([0.4, 0.4, 0.6, 1.0])
        nib.save(nib.Nifti1Image(img, aff),
                 osp.join(root, 'images', f'case_{k}.nii.gz'))
        if k < 3:
            nib.save(nib.Nifti1Image(lab, aff),
                     osp.join(root, 'labels', f'case_{k}.nii.gz'))


MAKERS = dict(coco=make_coco, my_coco=make_my_coco,
              cityscapes=make_cityscapes, cbct=make_cbct)
