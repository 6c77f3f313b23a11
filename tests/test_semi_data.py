"""Semi-supervised data: the labelled:unlabelled sampler, the paired
dataset, the image-folder dataset, pseudo-label statistics."""
import itertools
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import BaseDataset

from mmkd.datasets import SemiDataset, SemiSampler, UnlabeledImageFolder
from mmkd.utils.errors import DataError


class _Toy(BaseDataset):
    """Items are dicts of (name, index, a random draw, size)."""

    def __init__(self, name, n, classes=('a', 'b'), landscape=None):
        self.name, self.n, self.landscape = name, n, landscape or set()
        super().__init__(metainfo=dict(classes=classes), serialize_data=False,
                         pipeline=[])

    def load_data_list(self):
        return [dict(i=i, width=200 if i in self.landscape else 100,
                     height=100 if i in self.landscape else 200)
                for i in range(self.n)]

    def prepare_data(self, idx):
        return dict(name=self.name, i=idx, draw=float(np.random.rand()),
                    portrait=idx not in self.landscape)


def _semi(n_lab=10, n_unlab=30, **kw):
    return SemiDataset(_Toy('lab', n_lab, **kw), _Toy('unlab', n_unlab, **kw))


def _take(sampler, n):
    return list(itertools.islice(iter(sampler), n))


def test_units_hold_the_ratio_and_one_aspect_group():
    ds = _semi(landscape={0, 1, 2, 10, 11, 12, 13, 14, 15, 16})
    sampler = SemiSampler(ds, ratio=(1, 4), seed=0)
    out = _take(sampler, 5 * 200)
    for u in range(200):
        unit = [ds[i] for i in out[5 * u:5 * u + 5]]
        assert [x['name'] for x in unit] == ['lab'] + ['unlab'] * 4
        assert len({x['portrait'] for x in unit}) == 1
    # every labelled image is drawn (10 images, 200 draws)
    assert {i for i, _ in out[::5]} == set(range(10))


def test_skip_moves_ahead_without_changing_the_stream():
    sampler = SemiSampler(_semi(), ratio=(1, 3), seed=3)
    full = _take(sampler, 120)
    sampler.skip(48)
    assert _take(sampler, 72) == full[48:]
    # the skip applies once
    assert _take(sampler, 10) == full[:10]


def test_seeds_differ_by_position_and_sampler_seed():
    a = _take(SemiSampler(_semi(), ratio=(1, 1), seed=0), 50)
    b = _take(SemiSampler(_semi(), ratio=(1, 1), seed=1), 50)
    assert len({s for _, s in a}) == 50
    assert a != b


def test_seeded_index_fixes_the_augmentation_not_the_global_rng():
    ds = _semi()
    np.random.seed(1)
    x = ds[(12, 777)]
    np.random.seed(2)
    after_a = np.random.rand()
    np.random.seed(2)
    y = ds[(12, 777)]
    assert x == y  # same seed, same draw, whatever the state before
    assert np.random.rand() == after_a  # the caller's generator untouched
    assert ds[(12, 778)]['draw'] != x['draw']


def test_sampler_rejects_a_bad_ratio_and_a_single_dataset():
    with pytest.raises(ValueError, match='ratio'):
        SemiSampler(_semi(), ratio=(1, 0.5))
    with pytest.raises(TypeError, match='labelled and an unlabelled'):
        SemiSampler(_Toy('lab', 4), ratio=(1, 1))


def test_class_lists_must_match_and_the_error_names_both():
    with pytest.raises(DataError) as e:
        SemiDataset(_Toy('lab', 3, classes=('cat', 'dog')),
                    _Toy('unlab', 3, classes=('dog', 'cat')))
    msg = str(e.value)
    assert "['cat', 'dog']" in msg and "['dog', 'cat']" in msg


def test_unlabelled_folder_takes_the_labelled_class_list(tmp_path):
    for name in ('a.jpg', 'sub/b.png', 'notes.txt'):
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        if name.endswith('.txt'):
            path.write_text('x')
        else:
            cv2.imwrite(str(path), np.zeros((30, 50, 3), np.uint8))
    folder = UnlabeledImageFolder(data_root=str(tmp_path), pipeline=[])
    assert len(folder) == 2
    info = folder.get_data_info(1)
    assert info['img_path'].endswith(osp.join('sub', 'b.png'))
    assert (info['width'], info['height']) == (50, 30)
    only_jpg = UnlabeledImageFolder(data_root=str(tmp_path),
                                    img_glob='*.jpg', pipeline=[])
    assert len(only_jpg) == 1
    semi = SemiDataset(_Toy('lab', 3, classes=('cat', 'dog')), folder)
    assert semi.metainfo['classes'] == ('cat', 'dog')
    with pytest.raises(DataError, match='no images'):
        UnlabeledImageFolder(data_root=str(tmp_path), img_glob='*.gif',
                             pipeline=[])
    with pytest.raises(DataError, match='does not exist'):
        UnlabeledImageFolder(data_root=str(tmp_path / 'nope'), pipeline=[])


def test_loop_rejects_a_batch_size_that_splits_units():
    from types import SimpleNamespace

    from mmkd.engine import IterBasedTrainLoop
    sampler = SemiSampler(_semi(), ratio=(1, 4), seed=0)
    loader = torch.utils.data.DataLoader(_semi(), batch_size=4,
                                         sampler=sampler)
    runner = SimpleNamespace(visualizer=SimpleNamespace())
    with pytest.raises(ValueError, match='batch_size=4 is not a multiple'):
        IterBasedTrainLoop(runner, loader, max_iters=10)


# -- pseudo-label statistics --------------------------------------------------
def test_true_positives_need_class_iou_and_one_match_per_box():
    from mmkd.detection.pseudo_label_quality import count_true_positives
    gt = torch.tensor([[0., 0., 10., 10.], [20., 20., 30., 30.]])
    gt_labels = torch.tensor([0, 1])
    pred = torch.tensor([[0., 0., 10., 10.],    # TP
                         [1., 0., 10., 10.],    # duplicate of gt 0
                         [20., 20., 30., 30.],  # right place, wrong class
                         [20., 20., 26., 26.]])  # right class, IoU 0.36
    labels = torch.tensor([0, 0, 0, 1])
    scores = torch.tensor([0.9, 0.95, 0.99, 0.9])
    assert count_true_positives(pred, labels, scores, gt, gt_labels) == 1
    assert count_true_positives(pred, labels, scores, gt, gt_labels,
                                iou_thr=0.3) == 2


def test_box_statistics_report_precision_and_recall(tmp_path):
    import json

    from mmkd.detection.pseudo_label_quality import BoxPseudoLabelStatistics
    gt = dict(images=[dict(id=1), dict(id=2)],
              categories=[dict(id=7, name='cat'), dict(id=9, name='dog')],
              annotations=[
                  dict(image_id=1, category_id=7, bbox=[0, 0, 10, 10]),
                  dict(image_id=1, category_id=9, bbox=[20, 20, 10, 10]),
                  dict(image_id=2, category_id=9, bbox=[5, 5, 10, 10])])
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(gt))
    statistics = BoxPseudoLabelStatistics(('cat', 'dog'), str(path))
    records = [
        dict(img_id=1, bboxes=torch.tensor([[0., 0., 10., 10.],
                                            [50., 50., 60., 60.]]),
             labels=torch.tensor([0, 1]), scores=torch.tensor([0.9, 1.0])),
        dict(img_id=2, bboxes=torch.zeros(0, 4),
             labels=torch.zeros(0, dtype=torch.long),
             scores=torch.zeros(0))]
    out = statistics.summarise(records)
    assert out['precision'] == pytest.approx(1 / 2)
    assert out['recall'] == pytest.approx(1 / 3)
    assert out['boxes_per_img'] == 1.0
    assert out['cat_per_img'] == 0.5 and out['dog_per_img'] == 0.5
    assert out['mean_score'] == pytest.approx(0.95)
