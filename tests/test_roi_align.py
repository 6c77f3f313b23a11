"""mmkd's CPU RoIAlign gives mmcv's results to the bit, forward and
backward, on multiple threads; detection configs get it through mmkd's
SingleRoIExtractor, and the mmdet comparison configs keep mmcv's."""
import os.path as osp

import pytest
import torch
from mmcv.ops import RoIAlign as MMCVRoIAlign
from mmcv.ops import roi_align as mmcv_roi_align
from mmengine.config import Config
from mmengine.registry import init_default_scope

from conftest import ROOT, config_file
from mmkd.ops import RoIAlign, roi_align_cpu
from mmkd.ops import roi_align as roi_align_module
from mmkd.registry import MODELS


def _rois(num_images, per_image, extent, size, generator):
    """Boxes (batch index, x1, y1, x2, y2) of every size up to ``size``,
    some reaching past the image and some beyond it, images interleaved."""
    rois = []
    for b in range(num_images):
        xy = torch.rand(per_image, 2, generator=generator) * (extent + 40) - 20
        wh = torch.rand(per_image, 2, generator=generator) * size
        wh[:3] = torch.tensor([[0., 0.], [0.3, 5.], [extent, extent]])
        rois.append(torch.cat([torch.full((per_image, 1), float(b)), xy,
                               xy + wh], 1))
    rois = torch.cat(rois)
    return rois[torch.randperm(len(rois), generator=generator)]


CASES = [
    # output size, spatial scale, sampling ratio, aligned, box size
    ((7, 7), 1 / 4, 0, True, 60.),
    ((7, 7), 1 / 16, 0, True, 400.),  # large grids (several points a bin)
    ((14, 14), 1 / 8, 0, True, 120.),  # Mask R-CNN's mask RoIs
    ((7, 5), 1 / 4, 2, True, 60.),
    ((7, 7), 1 / 4, 0, False, 60.),  # the legacy (unaligned) geometry
]


@pytest.mark.parametrize('output_size,scale,ratio,aligned,size', CASES)
def test_matches_mmcv_bit_for_bit(output_size, scale, ratio, aligned, size):
    generator = torch.Generator().manual_seed(0)
    feats = torch.randn(3, 16, 24, 30, generator=generator)
    rois = _rois(3, 40, 30 / scale, size, generator)
    ours = feats.clone().requires_grad_()
    theirs = feats.clone().requires_grad_()
    out = roi_align_cpu(ours, rois, output_size, scale, ratio, aligned)
    ref = mmcv_roi_align(theirs, rois, output_size, scale, ratio, 'avg',
                         aligned)
    grad = torch.randn(ref.shape, generator=generator)
    out.backward(grad)
    ref.backward(grad)
    assert torch.equal(out, ref)
    assert torch.equal(ours.grad, theirs.grad)
    assert ours.grad.abs().sum() > 0


def test_backward_in_chunks_of_rois_matches_mmcv():
    """The backward pass holds the sampling points of a bounded number of
    RoIs at a time; many small chunks give mmcv's gradient too."""
    generator = torch.Generator().manual_seed(2)
    feats = torch.randn(2, 8, 24, 24, generator=generator)
    rois = _rois(2, 30, 96, 80, generator)
    theirs = feats.clone().requires_grad_()
    ref = mmcv_roi_align(theirs, rois, (7, 7), 0.25, 0, 'avg', True)
    grad = torch.randn(ref.shape, generator=generator)
    ref.backward(grad)
    for max_points in (1, 200, 5000):
        ours = roi_align_module._roi_align_ext.roi_align_backward(
            grad, rois, *feats.shape, 0.25, 0, True, max_points=max_points)
        assert torch.equal(ours, theirs.grad), max_points


def test_same_result_on_one_thread_and_on_two():
    generator = torch.Generator().manual_seed(1)
    feats = torch.randn(2, 8, 20, 20, generator=generator)
    rois = _rois(2, 30, 80, 50, generator)
    grad = torch.randn(len(rois), 8, 7, 7, generator=generator)
    threads = torch.get_num_threads()
    results = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            x = feats.clone().requires_grad_()
            out = roi_align_cpu(x, rois, (7, 7), 0.25)
            out.backward(grad)
            results.append((out.detach(), x.grad))
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(results[0][0], results[1][0])
    assert torch.equal(results[0][1], results[1][1])


def test_no_rois_gives_empty_output_and_zero_gradient():
    feats = torch.randn(1, 4, 8, 8, requires_grad=True)
    out = roi_align_cpu(feats, torch.zeros(0, 5), (7, 7), 1.0)
    assert out.shape == (0, 4, 7, 7)
    out.sum().backward()
    assert torch.equal(feats.grad, torch.zeros_like(feats))


def test_a_roi_of_a_missing_image_is_refused():
    """(mmcv's kernel reads past the features there.)"""
    feats = torch.randn(2, 4, 8, 8)
    with pytest.raises(RuntimeError, match='image index is 2'):
        roi_align_cpu(feats, torch.tensor([[2., 0., 0., 4., 4.]]), (7, 7))


def test_the_extension_is_built():
    """setup builds it (tools/setup_env.sh); without it RoIAlign falls back
    to mmcv's kernel, correct but several times slower."""
    assert roi_align_module._roi_align_ext is not None


def test_module_uses_mmkd_kernel_for_float_cpu_avg_only(monkeypatch):
    calls = []
    real = roi_align_module.roi_align_cpu
    monkeypatch.setattr(roi_align_module, 'roi_align_cpu',
                        lambda *a: calls.append(1) or real(*a))
    feats = torch.randn(1, 4, 16, 16)
    rois = torch.tensor([[0., 2., 3., 40., 50.]])
    layer = RoIAlign((7, 7), spatial_scale=0.25)
    assert torch.equal(layer(feats, rois),
                       MMCVRoIAlign((7, 7), spatial_scale=0.25)(feats, rois))
    assert len(calls) == 1
    # what mmkd's kernel does not do goes to mmcv's: max pooling, float64
    for layer, x, r in [
        (RoIAlign((7, 7), 0.25, pool_mode='max'), feats, rois),
        (RoIAlign((7, 7), 0.25), feats.double(), rois.double()),
    ]:
        ref = MMCVRoIAlign((7, 7), 0.25, pool_mode=layer.pool_mode)(x, r)
        assert torch.equal(layer(x, r), ref)
    assert len(calls) == 1


def _roi_layers(config):
    cfg = Config.fromfile(osp.join(ROOT, config_file(config)))
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    return {type(m) for name, m in model.named_modules()
            if '.roi_layers.' in name}


def test_configs_select_the_kernel():
    assert _roi_layers('soft_teacher_mask_rcnn_r18_demo_coco_10p.py') == {
        RoIAlign}
    assert _roi_layers(
        'mmdet_soft_teacher_faster_rcnn_r18_demo_coco_10p.py') == {
            MMCVRoIAlign}


def test_other_roi_layers_come_from_mmcv():
    from mmcv.ops import RoIPool
    extractor = MODELS.build(
        dict(type='mmkd.SingleRoIExtractor',
             roi_layer=dict(type='RoIPool', output_size=7),
             out_channels=4, featmap_strides=[4]))
    assert type(extractor.roi_layers[0]) is RoIPool
