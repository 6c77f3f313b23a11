# ACAM-KD on the demo COCO: teacher Faster R-CNN R34(w/2) (train
# configs/supervised/demo/faster_rcnn_r34w2_demo_coco_full.py first), student
# the
# narrow R18 of faster_rcnn_r18_demo_coco_full.py, same schedule.  Every FPN
# level is distilled (levels=5: neck[0] … neck[4]); the student's FPN
# output convs and heads start from the teacher's ("inheritance").
_base_ = '../../supervised/demo/faster_rcnn_r18_demo_coco_full.py'
student = _base_.model
distill_losses = dict(
    fpn=dict(type='ACAMKDLoss', student_channels=64, teacher_channels=64,
             num_masks=6, levels=5,
             # chosen on seed 0 of the demo (README): at the paper's
             # α = λ = 1 the distillation is ~7x the task loss and the
             # student ends below inheritance alone (the `acam_paper` row)
             loss_weight=0.1,
             inputs=dict(student='student:neck', teacher='teacher:neck')))
model = dict(
    _delete_=True,
    type='FeatureDistiller',
    student=student,
    teacher='configs/supervised/demo/faster_rcnn_r34w2_demo_coco_full.py',
    teacher_ckpt='work_dirs/demo/faster_rcnn_r34w2_demo_coco_full/'
    'iter_2000.pth',
    inherit=['neck.fpn_convs', 'rpn_head', 'roi_head'],
    distill_losses=distill_losses)
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='DistillMaskVisualizationHook', interval=500, max_images=4),
]
