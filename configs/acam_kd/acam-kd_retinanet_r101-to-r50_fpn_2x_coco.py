# ACAM-KD, COCO: RetinaNet R101-FPN teacher -> R50-FPN student, 2x, every
# FPN level (P3-P7), student neck and head inherited from the teacher.
# Published: 37.4 -> 41.2 mAP.  Teacher: mmdet's model-zoo RetinaNet R101-FPN
# 2x in checkpoints/.  K/V pooling ×2 on P3 (a deviation, for memory).
_base_ = [
    '../_base_/models/retinanet_r50_fpn.py',
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
    teacher_ckpt='checkpoints/retinanet_r101_fpn_2x_coco.pth',
    inherit=['neck', 'bbox_head'],
    distill_losses=dict(
        fpn=dict(type='ACAMKDLoss', student_channels=256,
                 teacher_channels=256, num_masks=6, levels=5,
                 per_level=dict(kv_stride=[2, 1, 1, 1, 1]),
                 inputs=dict(student='student:neck',
                             teacher='teacher:neck'))))
optim_wrapper = dict(optimizer=dict(lr=0.01))  # RetinaNet's 2x lr
custom_hooks = [dict(type='RNGStateHook')]
