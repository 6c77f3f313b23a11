# Soft Teacher (Xu et al., ICCV 2021), Faster R-CNN R50-FPN, COCO 10 %
# labelled (fold 1) + the other 90 % of train2017 unlabelled -- the paper's
# protocol: 8 GPUs × 5 images (1 labelled : 4 unlabelled), 180k iterations,
# SGD 0.01, steps at 120k / 160k, EMA teacher (momentum 0.001).
#   bash tools/dist_train.sh <this config> 8
# Published: supervised 26.94 -> Soft Teacher 34.04 mAP (5-fold mean).
# Variants: soft_teacher_coco_{1p,5p,full}.py, soft_teacher_mask_rcnn_coco.py.
_base_ = [
    '../_base_/models/faster_rcnn_r50_fpn.py',
    '../_base_/datasets/coco_semi.py',
    '../_base_/schedules/schedule_semi_180k.py',
    '../_base_/default_runtime_det.py'
]
detector = _base_.model
model = dict(
    _delete_=True,
    type='SoftTeacher',
    student=detector,
    data_preprocessor=dict(type='MultiBranchDataPreprocessor',
                           data_preprocessor=detector.data_preprocessor),
    # teacher boxes kept for pseudo-labelling (score > 0.5)
    pseudo_labeller=dict(type='FixedThreshold', score_thr=0.5),
    rpn_pseudo_thr=0.9,
    cls_pseudo_thr=0.9,
    reg_pseudo_thr=0.02,
    jitter_times=10,
    jitter_scale=0.06,
    min_pseudo_bbox_wh=(1e-2, 1e-2),
    sup_weight=1.0,
    unsup_weight=4.0,
    predict_on='teacher')
custom_hooks = [
    dict(type='EMATeacherHook', momentum=0.001, interval=1, buffers='copy'),
    dict(type='PseudoLabelStatsHook', interval=50, image_interval=2000),
    dict(type='RNGStateHook'),
]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000,
                    max_keep_ckpts=2,
                    save_best=['teacher/coco/bbox_mAP',
                               'student/coco/bbox_mAP'],
                    rule='greater'),
    logger=dict(type='LoggerHook', interval=50))
log_processor = dict(by_epoch=False)
