# Soft Teacher, Faster R-CNN R18 (narrow) on the demo COCO: 10 % labelled
# (fold 1) + the other 90 % unlabelled, 1 labelled : 3 unlabelled per batch.
# Starts from the supervised 10 % model (first run
#   python tools/analysis_tools/run_demo.py \
#     configs/supervised/demo/faster_rcnn_r18_demo_coco_10p.py
# or point model.student.init_cfg.checkpoint at another checkpoint) and
# trains 1000 more iterations with the supervised schedule (AdamW 1e-3,
# x0.1 at 750); the teacher is the EMA of the student (momentum 0.01: a
# short run needs a teacher that follows the student within ~100 steps).
_base_ = [
    '../../_base_/models/faster_rcnn_r18_fpn_tiny.py',
    '../../_base_/datasets/demo_coco_semi.py',
    '../../_base_/default_runtime_det.py'
]
detector = _base_.model
detector.init_cfg = dict(
    type='Pretrained',
    checkpoint='work_dirs/demo/faster_rcnn_r18_demo_coco_10p/iter_2000.pth')
model = dict(
    _delete_=True,
    type='SoftTeacher',
    student=detector,
    data_preprocessor=dict(type='MultiBranchDataPreprocessor',
                           data_preprocessor=detector.data_preprocessor),
    pseudo_labeller=dict(type='FixedThreshold', score_thr=0.5),
    # the paper's 0.9 / 0.9 and unsup weight 4 (seed 0, README): teacher
    # 0.380 vs 0.425 at 0.7 / 0.7 / weight 1 (control 0.368) -- its boxes
    # above 0.9 are precise (0.89) but few (0.67 per image at the end,
    # recall 0.20), so the unlabelled images mostly teach "background"
    rpn_pseudo_thr=0.7,
    cls_pseudo_thr=0.7,
    reg_pseudo_thr=0.02,
    jitter_times=10,
    jitter_scale=0.06,
    sup_weight=1.0,
    unsup_weight=1.0,
    # no ramp-up: the first 200 iterations (of 1000) at a sigmoid-ramped
    # weight cost 0.011 mAP (teacher 0.151 vs 0.162, 2 seeds, earlier demo)
    unsup_rampup_iters=0,
    # the teacher normalises each weak unlabelled batch with its own
    # statistics and its running statistics track them (the EMA hook skips
    # buffers), so validation normalises with weak-view statistics too; with
    # the student's running statistics (1-image labelled and strongly
    # augmented batches) the demo teacher kept 0.7 instead of 2.7 pseudo boxes
    # per image and ended 0.142 instead of 0.151 mAP (2 seeds, earlier demo)
    teacher_norm='batch_track',
    predict_on='teacher')
custom_hooks = [
    dict(type='EMATeacherHook', momentum=0.01, buffers='skip'),
    dict(type='PseudoLabelStatsHook', interval=50,
         gt_ann_file='data/coco_demo/annotations/semi_anns/'
         'instances_train2017.1@10-unlabeled.gt.json'),
    dict(type='RNGStateHook'),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000, val_interval=500)
val_cfg = dict(type='MemberValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=50),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=1000,
         milestones=[750], gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500,
                    max_keep_ckpts=2,
                    save_best=['teacher/coco/bbox_mAP',
                               'student/coco/bbox_mAP'],
                    rule='greater'))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
