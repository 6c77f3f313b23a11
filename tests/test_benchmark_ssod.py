"""tools/analysis_tools/benchmark_ssod.py: the gain over the control and the
share of the
gap closed, per seed, from the runs' metrics."""
import os.path as osp
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))
import benchmark_ssod as bench  # noqa: E402


def _run(teacher, plain=False):
    if plain:  # a supervised detector logs unprefixed metrics
        return dict(metrics={'coco/bbox_mAP': teacher}, s_iter=0.2)
    return dict(metrics={'teacher/coco/bbox_mAP': teacher,
                         'student/coco/bbox_mAP': teacher - 0.01},
                s_iter=0.4)


def test_gains_per_seed_over_the_control_and_the_gap():
    rows = dict(sup={0: _run(0.30, True), 1: _run(0.20, True)},
                control={0: _run(0.40), 1: _run(0.25)},
                mmkd={0: _run(0.50), 1: _run(0.30)},
                full={0: _run(0.60, True), 1: _run(0.60, True)},
                oracle={0: _run(0.70, True)})
    lines = bench.gains(rows, 'coco/bbox_mAP')
    assert '+0.100, +0.050 (mean +0.075)' in lines[1]
    # (0.5 - 0.3) / (0.6 - 0.3) and (0.3 - 0.2) / (0.6 - 0.2)
    assert 'full closed by mmkd (teacher), per seed: 67 %, 25 % ' \
        '(mean 46 %)' in lines[2]
    # the oracle ran on seed 0 only: (0.5 - 0.3) / (0.7 - 0.3)
    assert lines[3].endswith('per seed: 50 % (mean 50 %)')


def test_oracle_starts_from_the_checkpoint_with_every_label(monkeypatch):
    from conftest import load_config
    oracle = load_config(bench.EXP +
                         'oracle_faster_rcnn_r18_demo_coco_10p_3k.py')
    semi = load_config(bench.ST +
                       'soft_teacher_faster_rcnn_r18_demo_coco_10p_3k.py')
    assert oracle.train_cfg.max_iters == semi.train_cfg.max_iters
    assert oracle.param_scheduler == semi.param_scheduler
    assert oracle.optim_wrapper == semi.optim_wrapper
    assert 'semi_anns' not in oracle.train_dataloader.dataset.ann_file
    assert oracle.train_dataloader.batch_size == \
        semi.train_dataloader.batch_size
    # mmdet's reference runs the identical schedule
    mmdet = load_config(bench.EXP +
                        'mmdet_soft_teacher_faster_rcnn_r18_demo_coco_10p_3k.py')
    assert mmdet.train_cfg == semi.train_cfg
    assert mmdet.param_scheduler == semi.param_scheduler
    # and so does the Mask R-CNN one
    mask = load_config(bench.ST +
                       'soft_teacher_mask_rcnn_r18_demo_coco_10p_3k.py')
    assert mask.train_cfg == semi.train_cfg
    assert mask.param_scheduler == semi.param_scheduler
    assert mask.model.student.type == 'MaskRCNN'
    # the cheaper teacher pass at this stage changes only the teacher's
    # pseudo-labelling proposals
    cheap = load_config(
        bench.EXP +
        'soft_teacher_faster_rcnn_r18_demo_coco_10p_3k_100proposals.py')
    assert cheap.model.pop('pseudo_label_rpn_cfg') == dict(max_per_img=100)
    assert 'pseudo_label_rpn_cfg' not in semi.model
    assert cheap.model == semi.model and cheap.train_cfg == semi.train_cfg
    assert cheap.param_scheduler == semi.param_scheduler
    monkeypatch.setattr(sys, 'argv', ['benchmark_ssod.py', '--runs',
                                      'orcale'])
    with pytest.raises(SystemExit):  # an unknown run is refused
        bench.parse_args()
