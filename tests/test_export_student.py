"""tools/export_student.py: the exported model loads in plain mmdet / mmseg
with exactly the weights it had inside the distiller or teacher-student
model."""
import os.path as osp

import torch
from mmengine.registry import init_default_scope

from conftest import ROOT, load_config, run_tool


def _build_and_save(config, tmp_path, **changes):
    from mmkd.registry import MODELS
    cfg = load_config(config)
    init_default_scope(cfg.get('default_scope', 'mmkd'))
    for k, v in changes.items():
        cfg.model[k] = v
    model = MODELS.build(cfg.model)
    with torch.no_grad():  # make the weights distinguishable from init
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    ckpt = tmp_path / 'kd.pth'
    torch.save(dict(meta=dict(iter=7), state_dict=model.state_dict()), ckpt)
    return model, str(ckpt)


def _same(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sorted(sa) == sorted(sb)
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def test_exported_kd_student_loads_in_plain_mmdet(tmp_path):
    config = 'configs/acam_kd/demo/acam_kd_faster_rcnn_r34w2_r18_demo_coco.py'
    model, ckpt = _build_and_save(config, tmp_path, teacher_ckpt=None)
    out = str(tmp_path / 'student.pth')
    r = run_tool('tools/export_student.py', osp.join(ROOT, config), ckpt,
                 out)
    assert r.returncode == 0, r.stderr[-3000:]
    state = torch.load(out, weights_only=True)['state_dict']
    assert not any(k.startswith(('distill_losses', 'teacher', 'student.'))
                   for k in state)
    # mmkd's NMS name becomes mmcv's (plain mmdet would not find it)
    written = (tmp_path / 'student.py').read_text()
    assert "'nms'" in written and 'mmkd_nms' not in written
    # plain mmdet, in a fresh process without mmkd registered
    code = (
        'import torch, sys\n'
        'from mmdet.apis import init_detector, inference_detector\n'
        f'm = init_detector({str(tmp_path / "student.py")!r}, {out!r}, '
        'device="cpu")\n'
        'import numpy as np\n'
        'res = inference_detector(m, np.zeros((96, 96, 3), np.uint8))\n'
        'print(type(m).__name__, len(res.pred_instances))\n'
        f'torch.save(m.state_dict(), {str(tmp_path / "loaded.pth")!r})\n')
    r = run_tool('-c', code)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'FasterRCNN' in r.stdout.splitlines()[-1]
    loaded = torch.load(tmp_path / 'loaded.pth', weights_only=True)
    for k, v in model.student.state_dict().items():
        assert torch.equal(loaded[k], v), k


def test_exported_semi_teacher_and_student(tmp_path):
    from mmdet.apis import init_detector
    config = ('configs/soft_teacher/demo/soft_teacher_faster_rcnn_r18_demo_'
              'coco_10p.py')
    model, ckpt = _build_and_save(config, tmp_path)
    for which in ('teacher', 'student'):
        out = str(tmp_path / f'{which}.pth')
        r = run_tool('tools/export_student.py', osp.join(ROOT, config), ckpt,
                     out, '--model', which)
        assert r.returncode == 0, r.stderr[-3000:]
        loaded = init_detector(str(tmp_path / f'{which}.py'), out,
                               device='cpu')
        _same(loaded, getattr(model, which))


def test_exported_segmentation_student_loads_in_plain_mmseg(tmp_path):
    from mmseg.apis import init_model
    config = ('configs/acam_kd/demo/acam_kd_deeplabv3_r18w2_mbv2_demo_'
              'cityscapes.py')
    model, ckpt = _build_and_save(config, tmp_path, teacher_ckpt=None)
    out = str(tmp_path / 'student.pth')
    r = run_tool('tools/export_student.py', osp.join(ROOT, config), ckpt,
                 out)
    assert r.returncode == 0, r.stderr[-3000:]
    loaded = init_model(str(tmp_path / 'student.py'), out, device='cpu')
    _same(loaded, model.student)


def test_export_names_the_missing_part(tmp_path):
    bad = tmp_path / 'plain.pth'
    torch.save(dict(state_dict=dict(w=torch.zeros(1))), bad)
    r = run_tool('tools/export_student.py', osp.join(
        ROOT, 'configs/soft_teacher/demo/soft_teacher_faster_rcnn_r18_demo_'
              'coco_10p.py'),
        str(bad), str(tmp_path / 'o.pth'))
    assert r.returncode == 2
    assert 'no student.* weights' in r.stderr
