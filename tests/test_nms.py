"""mmkd's CPU NMS keeps exactly the boxes mmcv's keeps, in the same order,
through mmcv's ``batched_nms`` by the config name 'mmkd_nms'; detection
configs name it, the mmdet comparison config keeps mmcv's."""
import importlib
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv.ops import batched_nms
from mmcv.ops import nms as mmcv_nms
from mmcv.ops.nms import ext_module as mmcv_ext
from mmengine.config import Config

from conftest import ROOT, config_file
from mmkd.ops import nms

# the module (mmkd.ops.nms is the function, as in mmcv.ops)
nms_module = importlib.import_module('mmkd.ops.nms')


def _boxes(n, generator, extent=100., size=30., levels=1):
    """Boxes of every size up to ``size`` (some of zero width or height),
    scores rounded to 2 decimals so that many tie, and -- with ``levels``
    -- moved apart by level as ``batched_nms`` does."""
    xy = torch.rand(n, 2, generator=generator) * extent - 10
    wh = torch.rand(n, 2, generator=generator) * size
    wh[:n // 20, 0] = 0
    boxes = torch.cat([xy, xy + wh], 1)
    level = torch.randint(levels, (n, ), generator=generator)
    if n:
        boxes = boxes + level[:, None] * (boxes.max() + 1)
    scores = torch.rand(n, generator=generator).round(decimals=2)
    return boxes, scores


@pytest.mark.parametrize('n,threads', [(0, 2), (1, 2), (2, 2), (50, 2),
                                       (1500, 2), (6000, 2), (6000, 1)])
def test_kernel_keeps_what_mmcv_keeps(n, threads):
    """Same indices in the same order, for IoU thresholds from 0 (every
    overlap suppresses) to 1 (nothing does), both offsets; 6000 boxes on
    two threads take the split loop."""
    g = torch.Generator().manual_seed(n)
    boxes, scores = _boxes(n, g, levels=3)
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for threshold in [0.0, 0.3, 0.5, 0.7, 1.0]:
            for offset in [0, 1]:
                ref = mmcv_ext.nms(boxes, scores, iou_threshold=threshold,
                                   offset=offset)
                ours = nms_module._nms_ext.nms(boxes, scores, threshold,
                                               offset)
                assert torch.equal(ours, ref), (threshold, offset)
    finally:
        torch.set_num_threads(saved)


def test_a_hand_made_case():
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.],
                          [20., 20., 30., 30.], [0., 0., 10., 9.]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95])
    # IoU(3, 0) = 90 / 100 suppresses box 0; IoU(3, 1) = 72 / 118 < 0.7
    dets, inds = nms(boxes, scores, 0.7)
    assert inds.tolist() == [3, 1, 2]
    assert torch.equal(dets[:, 4], scores[[3, 1, 2]])
    assert nms(boxes, scores, 0.6)[1].tolist() == [3, 2]


def test_same_as_mmcv_nms_with_score_threshold_max_num_and_gradients():
    g = torch.Generator().manual_seed(1)
    boxes, scores = _boxes(400, g)
    for kwargs in [{}, dict(score_threshold=0.3), dict(max_num=20),
                   dict(score_threshold=0.5, max_num=10, offset=1)]:
        b1 = boxes.clone().requires_grad_()
        b2 = boxes.clone().requires_grad_()
        dets, inds = nms(b1, scores, 0.5, **kwargs)
        ref_dets, ref_inds = mmcv_nms(b2, scores, 0.5, **kwargs)
        assert torch.equal(inds, ref_inds) and torch.equal(dets, ref_dets)
        (dets[:, :4] * torch.arange(4.)).sum().backward()
        (ref_dets[:, :4] * torch.arange(4.)).sum().backward()
        assert torch.equal(b1.grad, b2.grad)


def test_batched_nms_finds_it_by_config_name():
    g = torch.Generator().manual_seed(2)
    boxes, scores = _boxes(800, g)
    idxs = torch.randint(5, (800, ), generator=g)
    ours = batched_nms(boxes, scores, idxs,
                       dict(type='mmkd_nms', iou_threshold=0.7))
    ref = batched_nms(boxes, scores, idxs, dict(type='nms', iou_threshold=0.7))
    assert all(torch.equal(a, b) for a, b in zip(ours, ref))


def test_what_the_kernel_does_not_do_goes_to_mmcv(monkeypatch):
    g = torch.Generator().manual_seed(3)
    boxes, scores = _boxes(100, g)
    calls = []
    real = nms_module._nms_ext
    monkeypatch.setattr(nms_module, '_nms_ext', type('Ext', (), dict(
        nms=staticmethod(lambda *a: calls.append(1) or real.nms(*a)))))
    ours, ref = nms(boxes.numpy(), scores.numpy(), 0.5), \
        mmcv_nms(boxes.numpy(), scores.numpy(), 0.5)
    assert all(np.array_equal(x, y) for x, y in zip(ours, ref))
    with pytest.raises(RuntimeError, match='Float but found Double'):
        nms(boxes.double(), scores.double(), 0.5)  # as mmcv's
    assert not calls
    nms(boxes, scores, 0.5)
    assert calls == [1]


def test_without_the_extension_mmcv_runs_with_a_warning(monkeypatch):
    monkeypatch.setattr(nms_module, '_nms_ext', None)
    g = torch.Generator().manual_seed(4)
    boxes, scores = _boxes(100, g)
    with pytest.warns(UserWarning, match='_nms_ext is not built'):
        ours = nms(boxes, scores, 0.5)
    assert torch.equal(ours[1], mmcv_nms(boxes, scores, 0.5)[1])


def test_bad_boxes_are_refused_in_one_line():
    with pytest.raises(ValueError, match=r'boxes must be \(N, 4\)'):
        nms(torch.zeros(3, 5), torch.zeros(3), 0.5)
    with pytest.raises(ValueError, match='offset must be 0 or 1'):
        nms(torch.zeros(3, 4), torch.zeros(3), 0.5, offset=2)


def test_the_extension_is_built():
    """setup builds it (tools/setup_env.sh); without it NMS falls back to
    mmcv's kernel, correct but slower."""
    assert nms_module._nms_ext is not None


def _nms_types(config):
    model = Config.fromfile(osp.join(ROOT, config_file(config))).model
    detector = model.get('student', model.get('detector', model))
    return {detector.train_cfg.rpn_proposal.nms.type,
            detector.test_cfg.rpn.nms.type, detector.test_cfg.rcnn.nms.type}


def test_configs_select_the_kernel():
    assert _nms_types('faster_rcnn_r18_demo_coco_10p.py') == {'mmkd_nms'}
    assert _nms_types('soft_teacher_mask_rcnn_r18_demo_coco_10p.py') == {
        'mmkd_nms'}
    assert _nms_types(
        'mmdet_soft_teacher_faster_rcnn_r18_demo_coco_10p.py') == {'nms'}
