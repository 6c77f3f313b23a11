import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmkd.volumetric import (
    ResVNet,
    VNet,
    VolumeSegmentor,
    VolumeSegMetric,
    masked_mean,
    remove_small_components,
)


@pytest.mark.parametrize('residual', [False, True])
def test_vnet_maps_volume_to_class_logits(residual):
    net = VNet(in_channels=1, num_classes=3, base_channels=4,
               residual=residual)
    out = net(torch.randn(2, 1, 32, 16, 16))
    assert out.shape == (2, 3, 32, 16, 16)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_resvnet_is_a_resnet34_encoder_on_the_vnet_decoder():
    from mmkd.volumetric.resvnet import BasicBlock3d
    net = ResVNet(in_channels=1, num_classes=2, base_channels=4)
    blocks = [m for m in net.modules() if isinstance(m, BasicBlock3d)]
    assert len(blocks) == 3 + 4 + 6 + 3
    enc_norms = {type(m) for m in net.stages.modules()
                 if 'Norm' in type(m).__name__}
    dec_norms = {type(m) for m in net.dec.modules()
                 if 'Norm' in type(m).__name__}
    assert enc_norms == {torch.nn.InstanceNorm3d}
    assert dec_norms == {torch.nn.BatchNorm3d}
    out = net(torch.randn(2, 1, 32, 16, 16))
    assert out.shape == (2, 2, 32, 16, 16)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_vnet_dropout_is_on_in_training_only():
    net = VNet(num_classes=2, base_channels=4, dropout=0.5)
    x = torch.randn(2, 1, 32, 32, 32)
    net.train()
    torch.manual_seed(0)
    a = net(x)
    torch.manual_seed(1)
    assert not torch.allclose(a, net(x))
    net.eval()
    assert torch.equal(net(x), net(x))


def _dice_of(logits, target, squared):
    seg = VolumeSegmentor(backbone=dict(type='VNet', in_channels=1,
                                        num_classes=logits.shape[1]),
                          num_classes=logits.shape[1], loss_weights=(0, 1),
                          dice_squared=squared)
    samples = []
    for t in target:
        s = BaseDataElement()
        s.gt_seg_map = t
        samples.append(s)
    return seg.loss_by_logits(logits, samples)['loss_dice'].item()


def test_segmentor_dice_loss_hand_computed():
    # 2 classes, 4 voxels; probabilities softmax(logits) chosen exactly
    p_fg = torch.tensor([0.8, 0.6, 0.3, 0.1])
    logits = torch.stack([torch.zeros(4), torch.log(p_fg / (1 - p_fg))])
    logits = logits.reshape(1, 2, 4, 1, 1)
    target = torch.tensor([1, 1, 0, 0]).reshape(1, 4, 1, 1)
    # Dice(fg) = 2*(0.8+0.6) / ((0.8+0.6+0.3+0.1) + 2) = 2.8 / 3.8
    assert _dice_of(logits, target, False) == pytest.approx(1 - 2.8 / 3.8,
                                                            rel=1e-5)
    # squared (RAIL, V-Net): 2*1.4 / ((0.64+0.36+0.09+0.01) + 2) = 2.8 / 3.1
    assert _dice_of(logits, target, True) == pytest.approx(1 - 2.8 / 3.1,
                                                           rel=1e-5)
    # pooled over the batch, background left out: two volumes, 3 classes
    p = torch.tensor([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])  # two voxels
    logits = p.log().reshape(2, 3, 1, 1, 1)
    target = torch.tensor([1, 2]).reshape(2, 1, 1, 1)
    dice_1 = 2 * 0.5 / ((0.5 + 0.1) + 1)
    dice_2 = 2 * 0.8 / ((0.3 + 0.8) + 1)
    assert _dice_of(logits, target, False) == pytest.approx(
        1 - (dice_1 + dice_2) / 2, rel=1e-5)


def test_masked_mean_on_hand_computed_cases():
    # an empty mask gives 0, not NaN
    assert masked_mean(torch.ones(4), torch.zeros(4)).item() == 0
    assert masked_mean(torch.tensor([1., 2., 3.]),
                       torch.tensor([0.5, 0., 1.])).item() == \
        pytest.approx((0.5 + 3) / 1.5, rel=1e-6)


def _sample(pred, gt, spacing=None):
    s = BaseDataElement()
    s.pred_seg_map = torch.as_tensor(pred)
    s.gt_seg_map = torch.as_tensor(gt)
    if spacing is not None:
        s.set_metainfo(dict(spacing=spacing))
    return s.to_dict()


def test_volume_dice_and_jaccard_and_an_empty_prediction():
    gt = np.zeros((4, 4, 4), np.int64)
    gt[:2] = 1  # 32 voxels
    pred = np.zeros_like(gt)
    pred[1:3] = 1  # 32 voxels, 16 shared
    metric = VolumeSegMetric(num_classes=2)
    metric.process({}, [_sample(pred, gt), _sample(np.zeros_like(gt), gt)])
    res = metric.compute_metrics(metric.results)
    # volume 1: Dice 2*16/64 = 0.5, Jaccard 16/48; volume 2 (empty): 0, 0
    assert res['Dice'] == pytest.approx((0.5 + 0) / 2 * 100)
    assert res['Jaccard'] == pytest.approx((16 / 48 + 0) / 2 * 100)
    # the empty prediction has no distance (never 0): counted, left out
    assert res['empty'] == 1
    only_first = VolumeSegMetric(num_classes=2)
    only_first.process({}, [_sample(pred, gt)])
    first = only_first.compute_metrics(only_first.results)
    assert res['HD95'] == first['HD95'] > 0
    alone = VolumeSegMetric(num_classes=2)
    alone.process({}, [_sample(np.zeros_like(gt), gt)])
    alone_res = alone.compute_metrics(alone.results)
    assert np.isnan(alone_res['HD95']) and alone_res['empty'] == 1


class _OnDevice(torch.Tensor):
    """Stand-in for a CUDA tensor: numpy refuses it until ``.cpu()``, as
    it refuses ``gt_seg_map`` after the preprocessor moved it to the GPU."""

    def __array__(self, *args, **kwargs):
        raise TypeError("can't convert cuda:0 device type tensor to numpy. "
                        'Use Tensor.cpu() to copy the tensor to host memory '
                        'first.')

    def numpy(self, *args, **kwargs):
        self.__array__()

    def cpu(self, *args, **kwargs):
        return self.as_subclass(torch.Tensor).clone()


def test_volume_metric_takes_maps_on_the_device():
    gt = np.zeros((4, 4, 4), np.int64)
    gt[:2] = 1
    pred = np.zeros_like(gt)
    pred[1:3] = 1
    on_device = _sample(pred, gt)
    on_device['pred_seg_map'] = on_device['pred_seg_map'].as_subclass(
        _OnDevice)
    on_device['gt_seg_map'] = on_device['gt_seg_map'].as_subclass(_OnDevice)
    with pytest.raises(TypeError):
        np.asarray(on_device['gt_seg_map'])
    metric = VolumeSegMetric(num_classes=2)
    metric.process({}, [on_device])
    assert metric.compute_metrics(metric.results)['Dice'] == \
        pytest.approx(50)


def test_volume_metric_keeps_every_class_of_every_volume():
    """mmengine keeps as many results as the data set has volumes
    (``collect_results(results, size)``); with one row per class, a
    3-class set lost the second volume's rows (and, across ranks, whole
    volumes)."""
    gt = np.zeros((4, 4, 4), np.int64)
    gt[:2], gt[2:] = 1, 2
    perfect = gt.copy()
    swapped = np.where(gt > 0, 3 - gt, 0)  # every class wrong: Dice 0
    metric = VolumeSegMetric(num_classes=3, distances=False)
    metric.dataset_meta = {}
    metric.process({}, [_sample(perfect, gt), _sample(swapped, gt)])
    res = metric.evaluate(size=2)
    # 4 rows: two at 100, two at 0
    assert res['cbct/Dice'] == pytest.approx(50)
    assert res['cbct/Jaccard'] == pytest.approx(50)


def _ball(shape, centre, radius, spacing=(1, 1, 1)):
    grid = np.meshgrid(*[np.arange(n) * s for n, s in zip(shape, spacing)],
                       indexing='ij')
    return sum((g - c * s)**2 for g, c, s in zip(grid, centre, spacing)) \
        <= radius**2


def test_surface_distances_of_shifted_spheres_in_voxels_and_mm():
    """A sphere of radius r = 5 voxels and its copy shifted by d = 3 voxels,
    voxels 0.5 x 0.5 x 2 mm. In voxels, HD95 = d and the directed ASD is
    the mean of |sqrt(r² + d² + 2rd·u) − r| over u = cos θ uniform in
    [-1, 1] = 1.5 (hand integral). Shifted along x, every distance in mm
    is half the voxel one; along z the mm distances exceed the voxel ones."""
    spacing = (0.5, 0.5, 2.0)
    gt = _ball((40, 40, 24), (20, 20, 10), 5).astype(np.int64)

    def scores(pred):
        metric = VolumeSegMetric(num_classes=2)
        metric.process({}, [_sample(pred, gt, spacing)])
        return metric.compute_metrics(metric.results)

    along_x = scores(np.roll(gt, 3, axis=0))
    assert along_x['HD95'] == pytest.approx(3)
    assert along_x['ASD'] == pytest.approx(1.5, abs=0.15)  # voxel surface
    assert along_x['HD95_mm'] == pytest.approx(1.5)
    assert along_x['ASD'] / 2 <= along_x['ASD_mm'] <= along_x['ASD']
    along_z = scores(np.roll(gt, 3, axis=2))
    assert along_z['HD95'] == pytest.approx(3)
    assert along_z['ASD'] == pytest.approx(along_x['ASD'])
    assert along_z['HD95_mm'] > along_z['HD95']
    same = scores(gt)
    assert same['Dice'] == 100 and same['HD95_mm'] == 0
    assert same['ASD'] == 0 and same['empty'] == 0


def test_remove_small_components():
    lab = np.zeros((10, 10, 10), np.int64)
    lab[0:4, 0:4, 0:4] = 1  # 64 voxels
    lab[8, 8, 8] = 1  # 1 voxel
    out = remove_small_components(lab, min_size=10)
    assert out.sum() == 64 and out[8, 8, 8] == 0


def test_sliding_window_prediction_covers_a_larger_volume():
    model = VolumeSegmentor(
        backbone=dict(type='VNet', num_classes=2, base_channels=4),
        roi_size=(16, 16, 16), sw_overlap=0.5)
    model.eval()
    vol = torch.randn(1, 40, 24, 20)  # not a multiple of the window
    s = BaseDataElement()
    out = model.predict([vol], [s])[0]
    assert out.pred_seg_map.shape == (40, 24, 20)


def test_sliding_window_with_one_window_is_the_whole_volume_forward():
    torch.manual_seed(0)
    model = VolumeSegmentor(
        backbone=dict(type='VNet', num_classes=2, base_channels=4),
        roi_size=(16, 16, 16), sw_overlap=0.5)
    model.eval()
    vol = torch.randn(1, 16, 16, 16)  # exactly one window
    with torch.no_grad():
        whole = model.backbone(vol[None])[0].softmax(0)
    probs = model.predict_probs(vol)
    assert probs.shape == whole.shape
    torch.testing.assert_close(probs, whole, atol=1e-5, rtol=1e-5)
    pred = model.predict([vol], [BaseDataElement()])[0].pred_seg_map
    assert torch.equal(pred, whole.argmax(0))


def test_slice_picture_marks_label_and_prediction():
    from mmkd.volumetric.prediction_hook import volume_picture
    vol = np.full((20, 16, 12), 0.5, np.float32)
    label = np.zeros((20, 16, 12), np.int64)
    label[5:10, 4:8, 3:9] = 1
    pred = np.zeros_like(label)
    pred[8:14, 4:8, 3:9] = 1
    pic = volume_picture(vol, label, pred)
    # axial slice through the label's centre (z = 5): image | overlay
    axial = pic[:20]
    assert axial.shape[1] == 2 * 16
    overlay = axial[:, 16:].astype(int)
    only_label, only_pred, both = overlay[6, 5], overlay[12, 5], overlay[9, 5]
    assert only_label[1] > only_label[0] and only_pred[0] > only_pred[1]
    assert (overlay[0, 0] == 128).all()  # elsewhere the grey image
    assert both[0] > only_label[0] and both[1] > only_pred[1]


@pytest.mark.parametrize('config', [
    'configs/_base_/models/vnet.py',
    'configs/mean_teacher/mean-teacher_vnet_8k_semi-cbct.py',
    'configs/rail/rail_vnet-resvnet_8k_semi-cbct.py'])
def test_full_size_sliding_window_strides_are_the_references(config):
    """RAIL's reference predicts 112 x 112 x 80 windows at stride 64 / 64 /
    32; MONAI's window step is int(roi x (1 - overlap)): 0.43 gave 63."""
    from monai.inferers.utils import _get_scan_interval

    from conftest import load_config
    cfg = load_config(config).model
    seg = cfg.get('student', cfg.get('vnet', cfg))
    roi, overlap = seg['roi_size'], seg['sw_overlap']
    assert tuple(roi) == (112, 112, 80)
    assert _get_scan_interval((224, 224, 160), roi, 3, overlap) == \
        (64, 64, 32)


def test_spurious_prediction_and_per_case_lines():
    """A volume with foreground predicted and none labelled scores Dice 0,
    counts as ``spurious`` and has no distance; each volume's scores are
    logged by case name."""
    from mmengine.logging import MMLogger
    gt = np.zeros((4, 4, 4), np.int64)
    gt[:2] = 1
    none = np.zeros_like(gt)
    metric = VolumeSegMetric(num_classes=2)
    samples = [_sample(gt, gt), _sample(gt, none), _sample(none, gt)]
    for name, s in zip(('a.nii.gz', 'b.nii.gz', 'c.nii.gz'), samples):
        s['img_path'] = f'/data/cbct/images/{name}'
    metric.process({}, samples)
    logger = MMLogger.get_instance('mmkd_metric_test')  # now current
    lines = []
    logger.info = lines.append
    try:
        res = metric.compute_metrics(metric.results)
    finally:
        del MMLogger._instance_dict['mmkd_metric_test']
    assert res['Dice'] == pytest.approx(100 / 3)
    assert res['spurious'] == 1 and res['empty'] == 1
    assert res['HD95'] == 0  # only the perfect volume has a distance
    assert lines == [
        'a.nii.gz class 1: Dice 100.00, Jaccard 100.00, HD95 0.00, ASD 0.00',
        'b.nii.gz class 1: predicted, nothing labelled (Dice 0, no '
        'distance)',
        'c.nii.gz class 1: labelled, nothing predicted (Dice 0, no '
        'distance)']


def test_asd_is_directed_from_the_prediction_to_the_label():
    """A small cube inside a large one: the prediction's surface lies 2
    voxels from the label's everywhere, while the label's far corners are
    farther from the prediction; ``directed_asd=False`` pools both."""
    from monai.metrics.utils import get_mask_edges, get_surface_distance
    gt = np.zeros((12, 12, 12), np.int64)
    gt[2:10, 2:10, 2:10] = 1
    pred = np.zeros_like(gt)
    pred[4:8, 4:8, 4:8] = 1

    def asd(directed):
        metric = VolumeSegMetric(num_classes=2, directed_asd=directed)
        metric.process({}, [_sample(pred, gt)])
        return metric.compute_metrics(metric.results)['ASD']

    edges_p, edges_g = get_mask_edges(pred == 1, gt == 1)
    p_to_g = get_surface_distance(edges_p, edges_g).mean()
    g_to_p = get_surface_distance(edges_g, edges_p).mean()
    assert p_to_g < g_to_p
    assert asd(True) == pytest.approx(p_to_g)
    assert p_to_g < asd(False) < g_to_p
