import glob
import json
import logging
import os
import os.path as osp
import re
import shutil

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from conftest import (
    load_config,
    point_det_config_at,
    point_semi_det_config_at,
    run_tool,
)
from mmkd.utils import DataError


def _build_coco(cfg_ds):
    from mmkd.registry import DATASETS
    init_default_scope('mmkd')
    return DATASETS.build(cfg_ds)


def _det_train_dataset(demo_root):
    cfg = point_det_config_at(
        load_config('configs/supervised/demo/faster_rcnn_r18_demo_coco_full.py'),
        demo_root)
    return cfg.train_dataloader.dataset


def test_missing_data_root_says_how_to_make_demo_data(demo_root):
    ds = _det_train_dataset(demo_root)
    ds.data_root = '/nonexistent/coco_demo/'
    with pytest.raises(DataError, match=r"/nonexistent/coco_demo.*"
                       r"tools/make_demo_data\.py"):
        _build_coco(ds)


def test_train_cli_reports_bad_input_in_one_line(tmp_path):
    r = run_tool('tools/train.py',
                 'configs/supervised/demo/faster_rcnn_r18_demo_coco_10p.py',
                 '--work-dir', str(tmp_path), '--cfg-options',
                 'train_dataloader.dataset.data_root=/nonexistent/root/')
    assert r.returncode == 2, r.stderr[-2000:]
    assert 'Traceback' not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith('error: data root') and '/nonexistent/root' in last
    assert 'own_data.md' in last  # not the demo data's hint: a user's root


def test_resume_from_another_models_checkpoint_is_one_line(tmp_path):
    import torch
    from mmengine.runner.checkpoint import save_checkpoint
    ckpt = str(tmp_path / 'other.pth')
    save_checkpoint(dict(meta=dict(iter=10, epoch=0), state_dict={
        'backbone.conv1.weight': torch.zeros(3, 3, 1, 1),
        'decode_head.conv_seg.weight': torch.zeros(19, 8, 1, 1)}), ckpt)
    r = run_tool('tools/train.py',
                 'configs/supervised/demo/faster_rcnn_r18_demo_coco_10p.py',
                 '--work-dir', str(tmp_path / 'work'), '--resume', ckpt)
    assert r.returncode == 2, r.stderr[-2000:]
    assert 'Traceback' not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: --resume {ckpt}: this checkpoint is '
                           "not of the config's model"), last
    assert 'not in the model (e.g. decode_head.conv_seg.weight)' in last
    assert 'backbone.conv1.weight (3, 3, 1, 1) vs (16, 3, 7, 7)' in last


def test_annotation_json_without_images(demo_root, tmp_path):
    ann = tmp_path / 'no_images.json'
    ann.write_text(json.dumps(dict(annotations=[], categories=[])))
    ds = _det_train_dataset(demo_root)
    ds.ann_file = str(ann)
    with pytest.raises(DataError, match=r'no_images\.json.*"images"'):
        _build_coco(ds)


def test_class_list_that_does_not_match_the_data(demo_root):
    ds = _det_train_dataset(demo_root)
    ds.metainfo = dict(classes=('circle', 'hexagon'))
    with pytest.raises(DataError) as e:
        _build_coco(ds)
    msg = str(e.value)
    assert 'instances_train2017.json' in msg
    assert "'hexagon'" in msg and "'rectangle'" in msg  # both lists named


def test_corrupt_and_missing_images(tmp_path):
    from mmkd.datasets.transforms import LoadImageFromFile
    bad = tmp_path / 'corrupt.jpg'
    bad.write_bytes(b'\xff\xd8 definitely not a jpeg')
    with pytest.raises(DataError, match=r'corrupt\.jpg: cannot be decoded'):
        LoadImageFromFile()(dict(img_path=str(bad)))
    with pytest.raises(DataError, match=r'gone\.jpg: image file not found'):
        LoadImageFromFile()(dict(img_path=str(tmp_path / 'gone.jpg')))
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance('mmkd_skip_test')
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    loader = LoadImageFromFile(skip_bad=True)
    for _ in range(2):
        assert loader(dict(img_path=str(bad))) is None
    logger.removeHandler(handler)
    assert loader.num_skipped == 2
    messages = [r.getMessage() for r in records]
    assert len(messages) == 2 and 'corrupt.jpg: cannot be decoded' in \
        messages[1] and '2 image(s) skipped so far' in messages[1]


def test_nifti_image_label_shape_mismatch(tmp_path):
    import nibabel as nib

    from mmkd.registry import DATASETS
    for sub, shape in (('images', (8, 8, 8)), ('labels', (8, 8, 6))):
        (tmp_path / sub).mkdir()
        nib.save(nib.Nifti1Image(np.zeros(shape, np.int16), np.eye(4)),
                 str(tmp_path / sub / 'case_0.nii.gz'))
    (tmp_path / 'list.txt').write_text('case_0\n')
    init_default_scope('mmkd')
    with pytest.raises(DataError, match=r'labels/case_0\.nii\.gz: label '
                       r'shape \(8, 8, 6\).*images/case_0\.nii\.gz shape '
                       r'\(8, 8, 8\)'):
        DATASETS.build(dict(type='CBCTDataset', data_root=str(tmp_path),
                            ann_file='list.txt',
                            data_prefix=dict(img_path='images',
                                             seg_map_path='labels'),
                            pipeline=[]))


def _nifti_cases(root, cases):
    """``cases``: name -> (image array, image affine, label array or None,
    label affine)."""
    import nibabel as nib
    for sub in ('images', 'labels'):
        (root / sub).mkdir(exist_ok=True)
    for name, (img, aff, lab, lab_aff) in cases.items():
        nib.save(nib.Nifti1Image(img, aff),
                 str(root / 'images' / f'{name}.nii.gz'))
        if lab is not None:
            nib.save(nib.Nifti1Image(lab, lab_aff),
                     str(root / 'labels' / f'{name}.nii.gz'))
    (root / 'list.txt').write_text(''.join(n + '\n' for n in cases))


def _cbct(root, **kwargs):
    from mmkd.registry import DATASETS
    init_default_scope('mmkd')
    cfg = dict(type='CBCTDataset', data_root=str(root), ann_file='list.txt',
               data_prefix=dict(img_path='images', seg_map_path='labels'),
               pipeline=[])
    return DATASETS.build(dict(cfg, **kwargs))


def test_nifti_label_on_another_voxel_grid(tmp_path):
    vol = np.zeros((8, 8, 8), np.int16)
    _nifti_cases(tmp_path, dict(case_0=(vol, np.eye(4), vol.astype(
        np.uint8), np.diag([0.5, 0.5, 0.5, 1.0]))))
    with pytest.raises(DataError, match=r'labels/case_0\.nii\.gz: label '
                       r'affine does not match image .*images/case_0'):
        _cbct(tmp_path)


def test_nifti_label_values_that_are_not_classes(tmp_path):
    from mmkd.volumetric import LoadNiftiVolume
    lab = np.zeros((8, 8, 8), np.int16)
    lab[0, 0, :2] = (3, 7)
    _nifti_cases(tmp_path, dict(case_0=(lab, np.eye(4), lab, np.eye(4))))
    sample = dict(img_path=str(tmp_path / 'images' / 'case_0.nii.gz'),
                  seg_map_path=str(tmp_path / 'labels' / 'case_0.nii.gz'))
    with pytest.raises(DataError, match=r'case_0\.nii\.gz: label values '
                       r'\[3, 7\] are not classes .*\[0, 3\)'):
        LoadNiftiVolume(binary_label=False, num_classes=3)(dict(sample))
    # binary: every positive id is the tooth; negative ids are not classes
    assert LoadNiftiVolume()(dict(sample))['gt_seg_map'].max() == 1
    lab[1, 1, 1] = -1
    _nifti_cases(tmp_path, dict(case_0=(lab, np.eye(4), lab, np.eye(4))))
    with pytest.raises(DataError, match=r'label values \[-1\]'):
        LoadNiftiVolume()(dict(sample))


def test_truncated_nifti_is_an_error_or_skipped_when_unlabelled(tmp_path):
    import logging

    from mmkd.volumetric import LoadNiftiVolume
    vol = np.random.default_rng(0).normal(size=(16, 16, 16)).astype(
        np.float32)
    lab = np.zeros(vol.shape, np.uint8)
    _nifti_cases(tmp_path, dict(case_0=(vol, np.eye(4), lab, np.eye(4)),
                                case_1=(vol, np.eye(4), lab, np.eye(4))))
    path = tmp_path / 'images' / 'case_1.nii.gz'
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])  # truncated
    sample = dict(img_path=str(path))
    with pytest.raises(DataError, match=r'case_1\.nii\.gz: cannot read'):
        LoadNiftiVolume(with_label=False)(dict(sample))
    from mmengine.logging import MMLogger
    loader = LoadNiftiVolume(with_label=False, skip_bad=True)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_instance('mmkd_nifti_skip_test')
    logger.addHandler(handler)
    try:
        assert loader(dict(sample)) is None
    finally:
        logger.removeHandler(handler)
    assert loader.num_skipped == 1
    assert 'case_1.nii.gz' in records[-1].getMessage()
    # a header cut short: an error in a labelled list, skipped (counted)
    # in an unlabelled one
    path.write_bytes(data[:100])
    ds = _cbct(tmp_path, with_label=False)
    assert len(ds) == 1 and ds.num_skipped == 1
    with pytest.raises(DataError, match=r'case_1\.nii\.gz: not a readable'):
        _cbct(tmp_path)


def test_cityscapes_missing_label_file(demo_root, tmp_path):
    from mmseg.registry import DATASETS
    root = tmp_path / 'city'
    shutil.copytree(osp.join(demo_root, 'cityscapes_demo'), root)
    victim = sorted((root / 'gtFine' / 'train' / 'aachen').iterdir())[0]
    os.remove(victim)
    init_default_scope('mmseg')
    cfg = load_config('configs/supervised/demo/deeplabv3_mbv2_demo_cityscapes_'
                      'full.py')
    cfg.train_dataloader.dataset.data_root = str(root)
    with pytest.raises(DataError, match=victim.name):
        DATASETS.build(cfg.train_dataloader.dataset)


def _city_copy(demo_root, tmp_path):
    root = tmp_path / 'city'
    shutil.copytree(osp.join(demo_root, 'cityscapes_demo'), root)
    label = sorted((root / 'gtFine' / 'train' / 'aachen').glob(
        '*_labelTrainIds.png'))[0]
    image = root / 'leftImg8bit' / 'train' / 'aachen' / label.name.replace(
        'gtFine_labelTrainIds', 'leftImg8bit')
    return root, str(image), str(label)


def _load_first_city_sample(root):
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    cfg = load_config('configs/supervised/demo/deeplabv3_mbv2_demo_cityscapes_'
                      'full.py')
    ds = cfg.train_dataloader.dataset
    ds.data_root = str(root)
    ds.pipeline = ds.pipeline[:2]  # load image, load label
    return DATASETS.build(ds)[0]


def test_cityscapes_label_ids_outside_the_train_ids(demo_root, tmp_path):
    import mmcv
    root, _, label = _city_copy(demo_root, tmp_path)
    seg = mmcv.imread(label, flag='unchanged')
    seg[:2, :2] = 26  # a raw Cityscapes id (car), not a train id
    seg[2:4, :2] = 33
    mmcv.imwrite(seg, label)
    with pytest.raises(DataError, match=rf'{label}: label ids \[26, 33\] '
                       r'are not train ids \(0-18, 255 = ignore\)'):
        _load_first_city_sample(root)


def test_cityscapes_image_and_label_of_different_sizes(demo_root, tmp_path):
    import mmcv
    root, image, label = _city_copy(demo_root, tmp_path)
    seg = mmcv.imread(label, flag='unchanged')
    mmcv.imwrite(seg[:-8], label)
    with pytest.raises(DataError, match=rf'{label}: label size .* differs '
                       rf'from its image {image}'):
        _load_first_city_sample(root)


def test_a_volume_smaller_than_the_patch_is_padded(tmp_path):
    from mmengine.config import Config
    from mmengine.dataset import Compose
    base = Config.fromfile('configs/_base_/datasets/demo_cbct.py')
    patch = base.patch_size
    shape = (20, 30, 12)  # smaller than the patch on every axis
    img = np.full(shape, 1500, np.int16)  # 0.5 in the [500, 2500] window
    lab = np.zeros(shape, np.uint8)
    lab[5:10, 5:10, 4:8] = 1
    _nifti_cases(tmp_path, dict(case_0=(img, np.eye(4), lab, np.eye(4))))
    ds = _cbct(tmp_path)
    ds.pipeline = Compose(base.train_pipeline)  # the demo's training crops
    out = ds[0]
    vol, seg = out['inputs'], out['data_samples'].gt_seg_map
    assert tuple(vol.shape[1:]) == tuple(patch)
    assert tuple(seg.shape[-3:]) == tuple(patch)
    # every labelled voxel is kept, the padding is background at intensity 0
    assert int((seg == 1).sum()) == int(lab.sum())
    assert int((vol == 0.5).sum()) == int(np.prod(shape))
    assert int((vol == 0).sum()) == int(np.prod(patch)) - int(np.prod(shape))


def test_unlabelled_cbct_scans_from_a_plain_folder(tmp_path):
    vol = np.zeros((8, 8, 8), np.int16)
    _nifti_cases(tmp_path, dict(scan_b=(vol, np.eye(4), None, None),
                                scan_a=(vol, np.eye(4), None, None)))
    (tmp_path / 'images' / 'notes.txt').write_text('not a volume')
    ds = _cbct(tmp_path, with_label=False, ann_file='')
    assert [d['case'] for d in ds] == ['scan_a', 'scan_b']
    assert ds[0]['img_path'].endswith('images/scan_a.nii.gz')
    # labelled volumes still need their list
    with pytest.raises(DataError, match=r'images: labelled CBCT volumes '
                       r'need a case list'):
        _cbct(tmp_path, ann_file='')
    empty = tmp_path / 'empty'
    (empty / 'images').mkdir(parents=True)
    with pytest.raises(DataError, match=r'no \*\.nii\.gz volumes'):
        _cbct(empty, with_label=False, ann_file='')


# -- a new user's mistakes ---------------------------------------------------
def _coco_json(path, images, annotations, classes=('circle', )):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(
        images=images, annotations=annotations,
        categories=[dict(id=i + 1, name=c) for i, c in enumerate(classes)])))
    return str(path)


def _image(tmp_path, name):
    import cv2
    (tmp_path / 'img').mkdir(exist_ok=True)
    cv2.imwrite(str(tmp_path / 'img' / name), np.zeros((40, 50, 3),
                                                       np.uint8))
    return dict(id=len(name), file_name=name, width=50, height=40)


def _dataset(tmp_path, ann_file, **kw):
    return dict(type='CocoDataset', data_root=str(tmp_path) + '/',
                ann_file=ann_file, data_prefix=dict(img='img/'),
                metainfo=dict(classes=('circle', )), pipeline=[], **kw)


def test_missing_split_file_tells_a_coco_user_to_write_the_split(tmp_path):
    cfg = load_config('configs/soft_teacher/'
                      'soft-teacher_faster-rcnn_r50_fpn_180k_semi-0.1-coco.py')
    labeled = cfg.train_dataloader.dataset.labeled
    labeled.data_root = str(tmp_path) + '/'
    (tmp_path / 'train2017').mkdir()
    with pytest.raises(DataError) as e:
        _build_coco(labeled)
    msg = str(e.value)
    assert 'semi_anns/instances_train2017.1@10.json' in msg
    assert 'tools/misc/split_coco.py' in msg and 'make_demo_data' not in msg


def test_an_empty_unlabelled_set_is_one_line(tmp_path):
    from mmkd.registry import DATASETS
    init_default_scope('mmkd')
    img = _image(tmp_path, 'a.jpg')
    ann = dict(id=1, image_id=img['id'], category_id=1, bbox=[5, 5, 20, 20],
               area=400, iscrowd=0)
    labelled = _coco_json(tmp_path / 'lab.json', [img], [ann])
    unlabelled = _coco_json(tmp_path / 'unl.json', [], [])
    with pytest.raises(DataError, match=r'unl\.json lists no image'):
        DATASETS.build(dict(type='SemiDataset',
                            labeled=_dataset(tmp_path, labelled),
                            unlabeled=_dataset(tmp_path, unlabelled)))


def test_images_missing_on_disk_are_listed_at_start(tmp_path):
    present = _image(tmp_path, 'here.jpg')
    gone = [dict(id=100 + k, file_name=f'gone_{k}.jpg', width=50, height=40)
            for k in range(5)]
    ann = _coco_json(tmp_path / 'ann.json', [present, *gone], [])
    with pytest.raises(DataError) as e:
        _build_coco(_dataset(tmp_path, ann,
                             filter_cfg=dict(filter_empty_gt=False)))
    msg = str(e.value)
    assert msg.startswith('5 of the 6 images listed in') and 'ann.json' in msg
    assert 'gone_0.jpg' in msg and 'and 2 more' in msg


def test_dropped_annotations_are_counted_in_one_warning(tmp_path):
    from mmengine.logging import MMLogger
    img = _image(tmp_path, 'a.jpg')

    def box(i, bbox, area=100):
        return dict(id=i, image_id=img['id'], category_id=1, bbox=bbox,
                    area=area, iscrowd=0)
    anns = [box(1, [5, 5, 10, 10]), box(2, [5, 5, -4, 10]),
            box(3, [5, float('nan'), 10, 10]), box(4, [60, 5, 10, 10]),
            box(5, [1, 1, 8, 0.5])]
    ann = _coco_json(tmp_path / 'ann.json', [img], anns)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        dataset = _build_coco(_dataset(tmp_path, ann))
    finally:
        logger.removeHandler(handler)
    assert len(dataset[0]['instances']) == 1
    warnings = [r.getMessage() for r in records
                if r.levelno == logging.WARNING and 'dropped' in
                r.getMessage()]
    assert len(warnings) == 1, warnings
    assert 'ann.json: 4 annotations dropped' in warnings[0]
    assert '2 with a width or height below 1 px' in warnings[0]
    assert '1 with NaN or infinite coordinates' in warnings[0]
    assert '1 outside their image' in warnings[0]


@pytest.mark.parametrize('option,suggestion', [
    ('model.unsup_weigth=2', 'model.unsup_weight'),
    ('model.student.roi_head.bbox_head.num_clases=3',
     'model.student.roi_head.bbox_head.num_classes'),
    ('train_cfg.max_iter=10', 'train_cfg.max_iters'),
])
def test_a_misspelt_option_stops_with_the_closest_key(option, suggestion,
                                                     tmp_path):
    r = run_tool('tools/train.py', 'configs/soft_teacher/demo/'
                 'soft_teacher_faster_rcnn_r18_demo_coco_10p.py',
                 '--work-dir', str(tmp_path), '--cfg-options', option)
    assert r.returncode == 2, r.stderr[-2000:]
    assert 'Traceback' not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: --cfg-options {option.split("=")[0]}')
    assert f'did you mean {suggestion}?' in last, last


def test_option_checks_accept_new_keys_and_constructor_arguments():
    from mmkd.utils import check_cfg_options, register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = load_config('configs/soft_teacher/demo/'
                      'soft_teacher_faster_rcnn_r18_demo_coco_10p.py')
    # an argument of SoftTeacher the config leaves at its default, a new
    # key, list indices
    check_cfg_options(cfg, {'model.teacher_norm': 'batch',
                            'model.pseudo_label_rpn_cfg': dict(
                                max_per_img=100),
                            'custom_hooks.1.image_interval': 10,
                            'my_new_key': 1})


def test_a_misspelt_module_path_in_a_distiller_is_one_line(tmp_path):
    config = tmp_path / 'kd.py'
    config.write_text('\n'.join([
        "_base_ = '" + osp.join(
            osp.dirname(osp.dirname(osp.abspath(__file__))),
            'configs/acam_kd/demo/acam_kd_faster_rcnn_r34w2_r18_demo_coco.py')
        + "'",
        "model = dict(teacher_ckpt=None, distill_losses=dict(fpn=dict("
        "inputs=dict(student='student:nekc'))))"]))
    r = run_tool('tools/train.py', str(config), '--work-dir',
                 str(tmp_path / 'wd'))
    assert r.returncode == 2, r.stderr[-3000:]
    assert 'Traceback' not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and "no module 'nekc'" in last, last


@pytest.mark.slow
def test_test_tool_refuses_a_checkpoint_of_another_model(tmp_path,
                                                         demo_root):
    from mmengine.runner.checkpoint import save_checkpoint

    from mmkd.registry import MODELS
    init_default_scope('mmkd')
    det = load_config('configs/supervised/demo/'
                      'faster_rcnn_r18_demo_coco_10p.py')
    detector = MODELS.build(det.model)
    ckpt = str(tmp_path / 'detector.pth')
    save_checkpoint(dict(state_dict=detector.state_dict()), ckpt)
    root = osp.join(demo_root, 'cityscapes_demo') + '/'
    config = tmp_path / 'seg.py'
    config.write_text('\n'.join([
        "_base_ = '" + osp.join(
            osp.dirname(osp.dirname(osp.abspath(__file__))),
            'configs/supervised/demo/deeplabv3_mbv2_demo_cityscapes_1-8.py')
        + "'",
        f"test_dataloader = dict(dataset=dict(data_root='{root}'))"]))
    r = run_tool('tools/test.py', str(config), ckpt, '--work-dir',
                 str(tmp_path / 'wd'))
    assert r.returncode == 2, (r.stdout + r.stderr)[-3000:]
    assert 'Iter(test)' not in r.stdout + r.stderr  # nothing was evaluated
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: {ckpt}: ') and "config's model" in last
    assert 'missing' in last or 'another shape' in last, last


def test_a_diverging_run_stops_with_one_line_and_keeps_no_checkpoint(
        tmp_path, demo_root):
    """The demo Soft Teacher at lr=1e5 trained on through ``loss: nan``,
    exited 0 and saved non-finite weights; now it stops at the first
    non-finite loss, naming the iteration and the term, before saving that
    iteration's checkpoint."""
    cfg = point_semi_det_config_at(load_config(
        'configs/soft_teacher/demo/'
        'soft_teacher_faster_rcnn_r18_demo_coco_10p.py'), demo_root)
    cfg.train_cfg.max_iters = 30
    cfg.model.student.init_cfg = None  # from scratch: diverges at once
    # the statistics hook reads the demo set's hidden labels (not here)
    cfg.custom_hooks = [h for h in cfg.custom_hooks
                        if h.type != 'PseudoLabelStatsHook']
    cfg.default_hooks.checkpoint.interval = 1
    cfg.dump(str(tmp_path / 'diverging.py'))
    wd = tmp_path / 'wd'
    r = run_tool('tools/train.py', str(tmp_path / 'diverging.py'),
                 '--work-dir', str(wd), '--cfg-options',
                 'optim_wrapper.optimizer.lr=1e5')
    assert r.returncode == 2, r.stderr[-3000:]
    assert 'Traceback' not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    found = re.match(r"error: iteration (\d+): loss term '\w+' is "
                     r'(nan|-?inf)', last)
    assert found, last
    # checkpoints of the iterations before it only, every weight finite
    stopped_at = int(found.group(1))
    saved = sorted(glob.glob(str(wd / 'iter_*.pth')))
    assert len(saved) == stopped_at - 1
    for path in saved:
        state = torch.load(path, weights_only=False)['state_dict']
        assert all(torch.isfinite(v).all() for v in state.values()
                   if v.is_floating_point())


def test_amp_without_a_gpu_is_one_line(tmp_path):
    r = run_tool('tools/train.py', 'configs/soft_teacher/demo/'
                 'soft_teacher_faster_rcnn_r18_demo_coco_10p.py',
                 '--work-dir', str(tmp_path), '--amp')
    assert r.returncode == 2, r.stderr[-2000:]
    assert 'Traceback' not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        'error: --amp needs a GPU (mixed precision runs on CUDA, NPU, MLU '
        'or MUSA devices); none is available here')


def test_a_missing_checkpoint_is_one_line(tmp_path, demo_root):
    cfg = point_semi_det_config_at(load_config(
        'configs/soft_teacher/demo/'
        'soft_teacher_faster_rcnn_r18_demo_coco_10p.py'), demo_root)
    cfg.model.student.init_cfg.checkpoint = str(tmp_path / 'none.pth')
    cfg.dump(str(tmp_path / 'cfg.py'))
    r = run_tool('tools/train.py', str(tmp_path / 'cfg.py'), '--work-dir',
                 str(tmp_path / 'wd'))
    assert r.returncode == 2, r.stderr[-3000:]
    assert 'Traceback' not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: checkpoint '{tmp_path}/none.pth' does "
                           'not exist'), last
