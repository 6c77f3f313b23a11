"""The hooks' pictures go through the runner's visualizer: a config that
adds mmengine's TensorboardVisBackend gets the pseudo-label pictures, the
threshold curves (scalars) and their picture in the event file."""
import glob
import os.path as osp

import pytest

from conftest import load_config, run_tool


@pytest.mark.slow
def test_tensorboard_event_file_holds_the_pictures_and_curves(tmp_path,
                                                              demo_root):
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )
    from test_soft_teacher_training import _demo_config
    name = 'soft_teacher_faster_rcnn_r18_demo_coco_10p_dynamic'
    path = _demo_config(tmp_path, demo_root, name, 3, ckpt_interval=3)
    cfg = load_config(path)
    cfg.model.pseudo_labeller.update(update_interval=1, min_samples=5)
    for hook in cfg.custom_hooks:
        if hook.type in ('PseudoLabelStatsHook', 'PseudoThresholdHook'):
            hook.interval = 1
        if hook.type == 'PseudoLabelStatsHook':
            hook.image_interval = 2
    # what the base runtime's commented line turns on
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend'),
                                   dict(type='TensorboardVisBackend')]
    cfg.dump(path)
    wd = str(tmp_path / 'wd')
    r = run_tool('tools/train.py', path, '--work-dir', wd)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    events = glob.glob(osp.join(wd, '*', 'vis_data', 'events.out.*'))
    assert len(events) == 1, events
    acc = EventAccumulator(events[0], size_guidance={'images': 0})
    acc.Reload()
    images = acc.Tags()['images']
    # 3 unlabelled images a step: one picture each, at iteration 2
    assert {'pseudo_labels_0', 'pseudo_labels_2'} <= set(images), images
    assert [e.step for e in acc.Images('pseudo_labels_0')] == [2]
    assert 'pseudo_thresholds' in images
    scalars = acc.Tags()['scalars']
    curves = [t for t in scalars if 'thr/' in t and t.endswith('_high')]
    assert len(curves) == 4, scalars  # one per class of the demo COCO
    assert len(acc.Scalars(curves[0])) == 3  # every iteration
    # the local backend wrote the same pictures as files
    local = osp.join(osp.dirname(events[0]), 'vis_image')
    assert osp.isfile(osp.join(local, 'pseudo_labels_0_2.png'))
