import json
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from conftest import ROOT, load_config, point_det_config_at


def _generator():
    """The demo data generators (tools/demo_data/: scene, image and volume
    makers) as one namespace."""
    import sys
    import types
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    from demo_data import cbct, cityscapes, coco
    gen = types.SimpleNamespace()
    for module in (coco, cityscapes, cbct):
        gen.__dict__.update({k: v for k, v in vars(module).items()
                             if not k.startswith('__')})
    return gen


def test_demo_coco_is_valid_coco(demo_root):
    root = osp.join(demo_root, 'coco_demo')
    coco = COCO(osp.join(root, 'annotations', 'instances_train2017.json'))
    assert len(coco.getImgIds()) == 60
    assert len(coco.getCatIds()) >= 4
    per_class = {c: len(coco.getAnnIds(catIds=[c])) for c in coco.getCatIds()}
    assert all(n > 0 for n in per_class.values()), per_class
    for ann in coco.loadAnns(coco.getAnnIds()[:20]):
        m = coco.annToMask(ann)
        ys, xs = np.nonzero(m)
        x, y, w, h = ann['bbox']
        # the box is the tight box of the visible mask
        assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (
            x, y, x + w, y + h)
        assert ann['area'] == int(m.sum())
        assert mask_utils.area(ann['segmentation']) == ann['area']
    widths = [a['bbox'][2] for a in coco.loadAnns(coco.getAnnIds())]
    assert max(widths) > 3 * min(widths)  # varied scale


def test_demo_semi_split_hides_ground_truth(demo_root):
    d = osp.join(demo_root, 'coco_demo', 'annotations', 'semi_anns')
    lab = json.load(open(osp.join(d, 'instances_train2017.1@10.json')))
    unl = json.load(open(osp.join(
        d, 'instances_train2017.1@10-unlabeled.json')))
    gt = json.load(open(osp.join(
        d, 'instances_train2017.1@10-unlabeled.gt.json')))
    assert len(lab['images']) == 6 and len(unl['images']) == 54
    assert unl['annotations'] == [] and len(gt['annotations']) > 0


def test_generator_is_deterministic(tmp_path):
    from conftest import run_tool
    outs = []
    for name in ('a', 'b'):
        r = run_tool('tools/make_demo_data.py', '--out', str(tmp_path / name),
                     '--only', 'coco', '--coco-train', '5', '--coco-val', '2')
        assert r.returncode == 0, r.stderr
        outs.append(open(tmp_path / name / 'coco_demo' / 'annotations' /
                         'instances_train2017.json').read())
    assert outs[0] == outs[1]


def test_coco_dataset_loads_demo_through_mmdet_pipeline(demo_root):
    from mmdet.registry import DATASETS
    init_default_scope('mmkd')
    cfg = point_det_config_at(
        load_config('configs/supervised/demo/faster_rcnn_r18_demo_coco_full.py'),
        demo_root)
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(ds) > 50
    sample = ds[0]
    assert tuple(sample['inputs'].shape[1:]) == (160, 160)
    assert len(sample['data_samples'].gt_instances) > 0
    assert ds.metainfo['classes'] == ('circle', 'triangle', 'rectangle',
                                      'star')


def test_cityscapes_layout_and_loader(demo_root):
    from mmseg.registry import DATASETS
    root = osp.join(demo_root, 'cityscapes_demo')
    for denom in (16, 8, 4):
        lab = open(osp.join(root, 'splits', f'1_{denom}',
                            'labeled.txt')).read().split()
        unl = open(osp.join(root, 'splits', f'1_{denom}',
                            'unlabeled.txt')).read().split()
        assert len(lab) == 16 // denom and len(lab) + len(unl) == 16
        assert not set(lab) & set(unl)
    init_default_scope('mmseg')
    cfg = load_config('configs/supervised/demo/deeplabv3_mbv2_demo_cityscapes_'
                      '1-8.py')
    cfg.train_dataloader.dataset.data_root = root
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(ds) == 2
    import glob

    import cv2
    seen = set()
    for path in glob.glob(osp.join(root, 'gtFine', 'train', '*', '*.png')):
        lab = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        assert lab.shape == (128, 256)
        classes = set(np.unique(lab).tolist()) - {255}
        assert len(classes) >= 3, path  # sky, a building row, the road...
        seen |= classes
    assert len(seen) >= 12, sorted(seen)  # street scenes use most classes
    sample = ds[0]  # a random 128x128 crop
    seg = sample['data_samples'].gt_sem_seg.data.numpy()
    assert set(np.unique(seg).tolist()) <= set(range(19)) | {255}
    # RandomResize at ratio 0.5 makes a 128x64 image, so a crop is at most
    # 128x128; the data preprocessor pads the batch to the crop size
    h, w = sample['inputs'].shape[1:]
    assert h <= 128 and w <= 128 and max(h, w) == 128, (h, w)
    from mmseg.registry import MODELS
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    batch = preprocessor(dict(inputs=[sample['inputs']],
                              data_samples=[sample['data_samples']]), True)
    assert tuple(batch['inputs'].shape[2:]) == (128, 128)
    padded = batch['data_samples'][0].gt_sem_seg.data
    assert tuple(padded.shape[1:]) == (128, 128)
    assert (padded[:, h:, :] == 255).all() and (padded[:, :, w:] == 255).all()


def test_cbct_loader_reads_spacing_and_crops(demo_root):
    from mmkd.registry import DATASETS
    init_default_scope('mmkd')
    cfg = load_config('configs/supervised/demo/vnet_demo_cbct.py')
    cfg.train_dataloader.dataset.data_root = osp.join(demo_root, 'cbct_demo')
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(ds) == 2
    assert ds.get_data_info(0)['spacing'] == pytest.approx((0.4, 0.4, 0.6))
    sample = ds[0]
    assert tuple(sample['inputs'].shape) == (1, 48, 48, 32)
    assert 0.0 <= float(sample['inputs'].min())
    assert float(sample['inputs'].max()) <= 1.0
    assert set(np.unique(sample['data_samples'].gt_seg_map.numpy())) <= {0, 1}
    assert sample['data_samples'].spacing == pytest.approx((0.4, 0.4, 0.6))
    root = osp.join(demo_root, 'cbct_demo')
    # the budget lists: the first n training cases labelled, the rest not
    train = open(osp.join(root, 'train.txt')).read().split()
    assert open(osp.join(root, 'labeled_2.txt')).read().split() == train[:2]
    assert open(osp.join(root, 'unlabeled_2.txt')).read().split() == \
        train[2:]
    assert open(osp.join(root, 'labeled_1.txt')).read().split() == train[:1]


def test_varied_street_scenes_change_class_appearance_between_images():
    """'varied': a class's colour changes from image to image far more than
    in 'plain' (what makes more labelled images worth more); the labels are
    drawn the same way."""
    gen = _generator()
    spread = {}
    for style in ('plain', 'varied'):
        rng = np.random.default_rng(0)
        road = []
        for _ in range(12):
            img, lab = gen.make_street_scene(rng, 64, 128, style)
            assert lab.shape == (64, 128) and (lab == 0).any()
            road.append(img[lab == 0].mean(0))
        spread[style] = np.std(road, axis=0).mean()
    assert spread['varied'] > 2 * spread['plain'], spread


def test_clean_coco_style_keeps_objects_visible_and_large():
    """'clean': no annotated object loses more than a quarter of its area to
    later ones and none is drawn below 22 px; 'cluttered' has both (what
    the style changes, measured on the same draws)."""
    gen = _generator()
    visible, smallest = {}, {}
    for style in ('cluttered', 'clean'):
        rng = np.random.default_rng(0)
        anns = [a for _ in range(40)
                for a in gen.make_coco_image(rng, 160, style)[1]]
        visible[style] = min(a['area'] / a['drawn_area'] for a in anns)
        smallest[style] = min(a['drawn_area'] for a in anns)
    assert visible['clean'] >= 0.75 > visible['cluttered'], visible
    assert smallest['clean'] > smallest['cluttered'], smallest


def test_objects_street_scenes_colour_things_at_random_and_stuff_plainly():
    """'objects' (the label-hungry demo): every thing class appears, each
    instance in a random colour (a car's colour says nothing about it),
    while the road keeps nearly one colour; generation is deterministic."""
    gen = _generator()
    rng = np.random.default_rng(0)
    seen, road, car = set(), [], []
    for _ in range(40):
        img, lab = gen.make_street_scene(rng, 128, 256, 'objects')
        ids = set(np.unique(lab).tolist())
        assert ids <= set(range(19)) | {255}
        seen |= ids
        road.append(img[lab == 0].mean(0))
        if (lab == 13).sum() > 200:
            car.append(np.median(img[lab == 13], axis=0))
    things = {5, 6, 7, 11, 12, 13, 14, 15, 17, 18}
    assert things <= seen
    assert np.std(car, axis=0).mean() > 2 * np.std(road, axis=0).mean()
    a = gen.make_street_scene(np.random.default_rng(7), 64, 128, 'objects')
    b = gen.make_street_scene(np.random.default_rng(7), 64, 128, 'objects')
    assert (a[0] == b[0]).all() and (a[1] == b[1]).all()


def test_varied_cbct_scans_differ_in_pose_and_hold_tooth_like_decoys():
    """'varied' (the label-hungry demo CBCT): the arch's direction changes
    from scan to scan far more than in 'plain', and far more voxels that are
    not tooth are as bright as the teeth (implants, bone islands, dense
    bone); the labels stay binary and generation is deterministic."""
    gen = _generator()
    angle, decoys = {}, {}
    for style in ('plain', 'varied'):
        rng = np.random.default_rng(0)
        angle[style], decoys[style] = [], []
        for _ in range(8):
            img, lab = gen.CBCT_STYLES[style](rng, (48, 48, 32))
            assert set(np.unique(lab).tolist()) <= {0, 1} and lab.any()
            # the arch's axis: the main direction of the teeth in the axial
            # plane (second moments of the tooth voxels)
            x, y = np.nonzero(lab.any(2))
            cov = np.cov(np.stack([x, y]).astype(float))
            angle[style].append(0.5 * np.arctan2(2 * cov[0, 1],
                                                 cov[0, 0] - cov[1, 1]))
            bright = img > np.median(img[lab > 0])
            decoys[style].append((bright & (lab == 0)).sum() / lab.sum())
    assert np.std(angle['varied']) > 2 * np.std(angle['plain']), angle
    assert np.mean(decoys['varied']) > 3 * np.mean(decoys['plain']), decoys
    a = gen.make_cbct_volume_varied(np.random.default_rng(3), (32, 32, 16))
    b = gen.make_cbct_volume_varied(np.random.default_rng(3), (32, 32, 16))
    assert (a[0] == b[0]).all() and (a[1] == b[1]).all()
