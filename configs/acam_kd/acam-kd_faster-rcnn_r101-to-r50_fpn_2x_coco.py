# ACAM-KD (Lan & Tian, ICCV 2025), COCO: Faster R-CNN R101-FPN teacher ->
# R50-FPN student, 2x schedule (8 GPUs × 2 images, SGD 0.02, momentum 0.9,
# wd 1e-4), every FPN level distilled, student neck and heads initialised
# from the teacher ("inheritance").  Published: 38.4 -> 41.4 mAP.
# The teacher checkpoint is mmdet's model-zoo Faster R-CNN R101-FPN 2x
# (download it to checkpoints/; no downloads happen here).
# K/V pooling (a deviation from the paper, for memory): the student's P2 and
# P3 are average-pooled ×4 / ×2 before keys and values.
_base_ = [
    '../_base_/models/faster_rcnn_r50_fpn.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_2x.py', '../_base_/default_runtime_det.py'
]
student = _base_.model
teacher = dict(_base_.model)
teacher['backbone'] = dict(_base_.model.backbone, depth=101, init_cfg=None)
model = dict(
    _delete_=True,
    type='FeatureDistiller',
    student=student,
    teacher=teacher,
    teacher_ckpt='checkpoints/faster_rcnn_r101_fpn_2x_coco.pth',
    inherit=['neck', 'rpn_head', 'roi_head'],
    distill_losses=dict(
        fpn=dict(type='ACAMKDLoss', student_channels=256,
                 teacher_channels=256, num_masks=6, levels=5,
                 per_level=dict(kv_stride=[4, 2, 1, 1, 1]),
                 inputs=dict(student='student:neck',
                             teacher='teacher:neck'))))
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='DistillMaskVisualizationHook', interval=5000, max_images=2),
]
