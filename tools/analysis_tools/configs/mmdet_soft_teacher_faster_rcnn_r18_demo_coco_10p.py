# mmdet 3.3's own SoftTeacher on the identical demo split, detector,
# pipelines, optimiser and schedule as
# soft_teacher_faster_rcnn_r18_demo_coco_10p.py -- the reference that
# tools/analysis_tools/benchmark_ssod.py compares mmkd's Soft Teacher with.
_base_ = ('../../../configs/soft_teacher/demo/soft_teacher_faster_rcnn_r18_'
          'demo_coco_10p.py')
detector = _base_.detector
# mmdet as it ships: mmcv's RoIAlign and NMS kernels (mmkd's
# SingleRoIExtractor and 'mmkd_nms' give the same numbers, faster on the CPU)
detector.roi_head.bbox_roi_extractor.type = 'mmdet.SingleRoIExtractor'
detector.train_cfg.rpn_proposal.nms.type = 'nms'
detector.test_cfg.rpn.nms.type = 'nms'
detector.test_cfg.rcnn.nms.type = 'nms'
model = dict(
    _delete_=True,
    type='mmdet.SoftTeacher',
    detector=detector,
    data_preprocessor=dict(type='mmdet.MultiBranchDataPreprocessor',
                           data_preprocessor=detector.data_preprocessor),
    semi_train_cfg=dict(
        freeze_teacher=True,
        sup_weight=1.0,
        unsup_weight=1.0,  # mmdet has no ramp-up
        pseudo_label_initial_score_thr=0.5,
        rpn_pseudo_thr=0.7,
        cls_pseudo_thr=0.7,
        reg_pseudo_thr=0.02,
        jitter_times=10,
        jitter_scale=0.06,
        min_pseudo_bbox_wh=(1e-2, 1e-2)),
    semi_test_cfg=dict(predict_on='teacher'))
# skip_buffer=False: the demo detector trains its BN layers
custom_hooks = [
    dict(type='mmdet.MeanTeacherHook', momentum=0.01, skip_buffer=False),
    dict(type='RNGStateHook'),
]
# mmdet's own loop evaluates teacher and student as teacher/… and student/…
# (the keys save_best names); mmkd's MemberValLoop, inherited from the base,
# would see a plain model here and report unprefixed keys
val_cfg = dict(_delete_=True, type='mmdet.TeacherStudentValLoop')
