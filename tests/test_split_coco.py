import json

import pytest

from conftest import run_tool
from mmkd.datasets.coco_split import split_coco, write_splits


def _coco(n_images=200, anns_per_image=3):
    images = [dict(id=i, file_name=f'{i}.jpg', height=10, width=10)
              for i in range(1, n_images + 1)]
    anns = [dict(id=k, image_id=1 + (k % n_images), category_id=1,
                 bbox=[0, 0, 2, 2], area=4, iscrowd=0)
            for k in range(n_images * anns_per_image)]
    return dict(images=images, annotations=anns,
                categories=[dict(id=1, name='a')])


@pytest.mark.parametrize('percent,expected', [(1, 2), (5, 10), (10, 20),
                                              (12.5, 25)])
def test_split_counts_and_disjointness(percent, expected):
    data = _coco(200)
    lab, unl, gt = split_coco(data, percent, fold=1)
    lab_ids = [im['id'] for im in lab['images']]
    unl_ids = [im['id'] for im in unl['images']]
    assert len(lab_ids) == expected
    assert len(set(lab_ids)) == len(lab_ids)  # without replacement
    assert not set(lab_ids) & set(unl_ids)
    assert sorted(lab_ids + unl_ids) == list(range(1, 201))
    assert unl['annotations'] == []
    assert {a['image_id'] for a in lab['annotations']} == set(lab_ids)
    assert len(lab['annotations']) + len(gt['annotations']) == 600
    assert {a['image_id'] for a in gt['annotations']} <= set(unl_ids)
    assert lab['categories'] == data['categories']


def test_split_is_reproducible_by_fold_and_folds_differ():
    data = _coco(300)
    ids = lambda part: [im['id'] for im in part['images']]  # noqa: E731
    a = ids(split_coco(data, 10, fold=1)[0])
    b = ids(split_coco(data, 10, fold=1)[0])
    c = ids(split_coco(data, 10, fold=2)[0])
    assert a == b
    assert a != c


def test_split_tool_writes_mmdet_names(tmp_path):
    ann = tmp_path / 'annotations' / 'instances_train2017.json'
    ann.parent.mkdir()
    ann.write_text(json.dumps(_coco(50)))
    out = tmp_path / 'semi'
    r = run_tool('tools/misc/split_coco.py', '--data-root', str(tmp_path),
                 '--out-dir', str(out), '--labeled-percent', '10', '--fold',
                 '2', '--keep-hidden-gt')
    assert r.returncode == 0, r.stderr
    for fold in (1, 2):
        for suffix in ('', '-unlabeled', '-unlabeled.gt'):
            path = out / f'instances_train2017.{fold}@10{suffix}.json'
            assert path.is_file(), path
    lab = json.loads((out / 'instances_train2017.1@10.json').read_text())
    assert len(lab['images']) == 5


def test_split_rejects_json_without_images(tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(dict(annotations=[], categories=[])))
    with pytest.raises(ValueError, match=r'bad\.json.*"images"'):
        write_splits(str(bad), str(tmp_path), [10], 1)
