# Mean-teacher Faster R-CNN on the demo COCO: 10 % labelled + 90 %
# unlabelled, 1 labelled : 3 unlabelled images per batch, EMA teacher,
# pseudo boxes with score >= 0.9. Starts from the supervised 10 % checkpoint
# (train configs/supervised/demo/faster_rcnn_r18_demo_coco_10p.py first).
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
    type='MeanTeacherDetector',
    student=detector,
    data_preprocessor=dict(type='MultiBranchDataPreprocessor',
                           data_preprocessor=detector.data_preprocessor),
    pseudo_labeller=dict(type='FixedThreshold', score_thr=0.9),
    sup_weight=1.0,
    unsup_weight=2.0,
    unsup_rampup_iters=100,
    predict_on='teacher')
custom_hooks = [
    dict(type='EMATeacherHook', momentum=0.01, buffers='copy'),
    dict(type='RNGStateHook'),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=500, val_interval=250)
val_cfg = dict(type='MemberValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=250,
                    max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
