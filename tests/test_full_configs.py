"""The full-size configs (real data sets, the papers' protocols) build and
run one training iteration and a validation on tiny data laid out like the
real data sets.  Only the data root changes, and ImageNet initialisation is
off (no downloads here)."""
import json
import os
import os.path as osp
import re
import shutil

import numpy as np
import pytest

from conftest import ROOT, run_tool, write_config

pytestmark = pytest.mark.slow


def make_tiny_coco(demo_root, dst):
    """Two train and one val image in data/coco's layout, with COCO's 80
    category names (the demo shapes relabelled as the first four)."""
    from mmdet.datasets import CocoDataset as MMDetCoco
    names = MMDetCoco.METAINFO['classes']
    src = osp.join(demo_root, 'coco_demo')
    for split, n in (('train2017', 2), ('val2017', 1)):
        data = json.load(open(osp.join(src, 'annotations',
                                       f'instances_{split}.json')))
        images = [im for im in data['images']
                  if any(a['image_id'] == im['id']
                         for a in data['annotations'])][:n]
        ids = {im['id'] for im in images}
        os.makedirs(osp.join(dst, split), exist_ok=True)
        for im in images:
            shutil.copy(osp.join(src, split, im['file_name']),
                        osp.join(dst, split, im['file_name']))
        out = dict(images=images,
                   annotations=[a for a in data['annotations']
                                if a['image_id'] in ids],
                   categories=[dict(id=i + 1, name=n)
                               for i, n in enumerate(names)])
        os.makedirs(osp.join(dst, 'annotations'), exist_ok=True)
        json.dump(out, open(osp.join(dst, 'annotations',
                                     f'instances_{split}.json'), 'w'))


def make_tiny_cityscapes(demo_root, dst):
    src = osp.join(demo_root, 'cityscapes_demo')
    for split, city, n in (('train', 'aachen', 2), ('val', 'frankfurt', 1)):
        for sub, suffix in (('leftImg8bit', '_leftImg8bit.png'),
                            ('gtFine', '_gtFine_labelTrainIds.png')):
            files = sorted(f for f in os.listdir(osp.join(src, sub, split,
                                                          city))
                           if f.endswith(suffix))[:n]
            os.makedirs(osp.join(dst, sub, split, city), exist_ok=True)
            for f in files:
                shutil.copy(osp.join(src, sub, split, city, f),
                            osp.join(dst, sub, split, city, f))


def make_tiny_cbct(dst):
    import nibabel as nib
    rng = np.random.default_rng(0)
    for sub in ('images', 'labels'):
        os.makedirs(osp.join(dst, sub), exist_ok=True)
    for name, shape in (('train_0', (120, 116, 84)), ('val_0', (96, 96, 64))):
        img = rng.normal(0, 300, shape).astype(np.int16)
        lab = np.zeros(shape, np.uint8)
        lab[30:60, 30:60, 20:50] = 1
        img[lab > 0] += 2000
        aff = np.diag([0.3, 0.3, 0.3, 1.0])
        nib.save(nib.Nifti1Image(img, aff),
                 osp.join(dst, 'images', name + '.nii.gz'))
        nib.save(nib.Nifti1Image(lab, aff),
                 osp.join(dst, 'labels', name + '.nii.gz'))
    open(osp.join(dst, 'labeled.txt'), 'w').write('train_0\n')
    open(osp.join(dst, 'unlabeled.txt'), 'w').write('train_0\n')
    open(osp.join(dst, 'val.txt'), 'w').write('val_0\n')


CASES = {
    'configs/supervised/faster-rcnn_r50_fpn_1x_coco.py': (
        'coco', [
            "train_cfg = dict(max_epochs=1)",
            "model = dict(backbone=dict(init_cfg=None))",
            "val_evaluator = dict(ann_file='{root}/annotations/"
            "instances_val2017.json')",
        ]),
    'configs/supervised/deeplabv3_mobilenet-v2-d8_40k_cityscapes-'
    '512x1024.py': (
        'cityscapes', [
            "train_cfg = dict(max_iters=1, val_interval=1)",
            "model = dict(backbone=dict(init_cfg=None))",
        ]),
    'configs/supervised/deeplabv3_r18-d8_40k_cityscapes-512x1024.py': (
        'cityscapes', [
            "train_cfg = dict(max_iters=1, val_interval=1)",
            "model = dict(backbone=dict(init_cfg=None))",
        ]),
    'configs/supervised/vnet_8k_cbct.py': (
        'cbct', ["train_cfg = dict(max_iters=1, val_interval=1)"]),
    # configs/rail/rail_vnet-resvnet_8k_semi-cbct.py: trained and tested as
    # docs/user_guides/own_data.md shows it (tests/test_docs_commands.py)
    'configs/mean_teacher/mean-teacher_vnet_8k_semi-cbct.py': (
        'cbct_semi', ["train_cfg = dict(max_iters=1, val_interval=1)"]),
    # distillation: teacher weights are not available here (random teacher)
    'configs/acam_kd/acam-kd_faster-rcnn_r101-to-r50_fpn_2x_coco.py': (
        'coco', [
            "train_cfg = dict(max_epochs=1)",
            "model = dict(teacher_ckpt=None, student=dict(backbone=dict("
            "init_cfg=None)))",
            "val_evaluator = dict(ann_file='{root}/annotations/"
            "instances_val2017.json')",
        ]),
    'configs/acam_kd/acam-kd_deeplabv3_r101-to-mobilenet-v2-d8_40k_cityscapes-'
    '512x1024.py': (
        'cityscapes', [
            "train_cfg = dict(max_iters=1, val_interval=1)",
            "model = dict(teacher_ckpt=None, student=dict(backbone=dict("
            "init_cfg=None)))",
        ]),
}


@pytest.mark.parametrize('config', sorted(CASES))
def test_full_config_runs_one_iteration(config, demo_root, tmp_path):
    kind, extra = CASES[config]
    root = str(tmp_path / kind)
    if kind == 'coco':
        make_tiny_coco(demo_root, root)
    elif kind == 'cityscapes':
        make_tiny_cityscapes(demo_root, root)
    else:
        make_tiny_cbct(root)
    lines = [f"_base_ = '{ROOT}/{config}'"]
    at = f"data_root='{root}/'"
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = f'dict({at})'
        if key == 'train_dataloader' and kind.endswith('_semi'):
            dataset = f'dict(labeled=dict({at}), unlabeled=dict({at}))'
        lines.append(f"{key} = dict(num_workers=1, persistent_workers=False, "
                     f"dataset={dataset})")
    lines += [e.format(root=root) for e in extra]
    cfg = write_config(tmp_path / 'cfg.py', lines)
    wd = str(tmp_path / 'wd')
    r = run_tool('tools/train.py', cfg, '--work-dir', wd)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    assert 'Iter(train)' in out or 'Epoch(train)' in out or \
        osp.isfile(osp.join(wd, 'last_checkpoint'))
    # a validation ran and logged its metric (an untrained Faster R-CNN after
    # one iteration usually predicts nothing: mmdet's CocoMetric then warns
    # that the results are empty instead of reporting 0)
    assert re.search(r'\(val\).*\[1/1\]', out), out[-2000:]
    metric = {'coco': 'The testing results of the whole dataset is empty',
              'cityscapes': 'mIoU', 'cbct': 'cbct/Dice',
              'cbct_semi': 'cbct/Dice'}[kind]
    assert metric in out or 'coco/bbox_mAP' in out
