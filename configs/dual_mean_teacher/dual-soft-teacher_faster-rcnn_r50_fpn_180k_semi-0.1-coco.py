# Dual Mean-Teacher (after DMT) on Soft Teacher, COCO 10 % (fold 1): the
# protocol of
# configs/soft_teacher/soft-teacher_faster-rcnn_r50_fpn_180k_semi-0.1-coco.py
# (Faster R-CNN R50-FPN, 180k
# iterations, 1 labelled : 4 unlabelled x 8 GPUs, thresholds 0.9 / 0.9 /
# 0.02, unsup weight 4) with two pairs. As built here the pairs share the
# ImageNet backbone and differ in their randomly initialised necks and heads;
# DMT's warm start -- two supervised 10 % models of different seeds -- is
#   --cfg-options model.student_a.init_cfg.type=Pretrained
#       model.student_a.init_cfg.checkpoint=A.pth (and student_b: B.pth)
# (the two files are checked to be one architecture and class list).
#   bash tools/dist_train.sh <this config> 8
_base_ = ('../soft_teacher/soft-teacher_faster-rcnn_r50_fpn_180k_semi-0.1-'
          'coco.py')
detector = _base_.model.student
student_a = detector
student_b = detector
model = dict(
    _delete_=True,
    type='DualSoftTeacher',
    student_a=student_a,
    student_b=student_b,
    data_preprocessor=_base_.model.data_preprocessor,
    delta=0.5,
    agreement_thr=0.5,
    fusion='weighted_mean',
    pseudo_labeller=dict(type='FixedThreshold', score_thr=0.0),
    rpn_pseudo_thr=_base_.model.rpn_pseudo_thr,
    cls_pseudo_thr=_base_.model.cls_pseudo_thr,
    reg_pseudo_thr=_base_.model.reg_pseudo_thr,
    jitter_times=_base_.model.jitter_times,
    jitter_scale=_base_.model.jitter_scale,
    sup_weight=_base_.model.sup_weight,
    unsup_weight=_base_.model.unsup_weight,
    predict_on='ensemble')
default_hooks = dict(
    checkpoint=dict(save_best=['ensemble/coco/bbox_mAP'], rule='greater'))
