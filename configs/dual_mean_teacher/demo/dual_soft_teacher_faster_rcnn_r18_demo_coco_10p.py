# Dual Mean-Teacher (after DMT) on Soft Teacher, demo COCO 10 %: two pairs
# started from the supervised 10 % models of seeds 0 and 1 (first run
#   python tools/train.py \
#     configs/supervised/demo/faster_rcnn_r18_demo_coco_10p.py
#       --work-dir work_dirs/demo/faster_rcnn_r18_demo_coco_10p
#   ... --cfg-options randomness.seed=1
#       --work-dir work_dirs/demo/faster_rcnn_r18_demo_coco_10p_seed1
# or point model.student_{a,b}.init_cfg.checkpoint elsewhere). Both teachers
# detect on the weak view; an image whose confident boxes (score ≥ δ 0.5)
# match with mean IoU below τ 0.5 is rejected; matched pairs are fused
# (score-weighted mean) into the pseudo boxes, the rest are ignore regions;
# each student gets the Soft Teacher losses (demo thresholds 0.7 / 0.7) with
# its own teacher's background weights and box uncertainty. Validation: both
# teachers, both students, and their ensemble (NMS of the two teachers'
# boxes, also what test.py predicts).
_base_ = ('../../soft_teacher/demo/soft_teacher_faster_rcnn_r18_demo_coco_'
          '10p.py')
detector = _base_.model.student
student_a = dict(detector, init_cfg=dict(
    type='Pretrained',
    checkpoint='work_dirs/demo/faster_rcnn_r18_demo_coco_10p/iter_2000.pth'))
student_b = dict(detector, init_cfg=dict(
    type='Pretrained',
    checkpoint='work_dirs/demo/faster_rcnn_r18_demo_coco_10p_seed1/'
    'iter_2000.pth'))
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
    rpn_pseudo_thr=0.7,
    cls_pseudo_thr=0.7,
    reg_pseudo_thr=0.02,
    jitter_times=10,
    jitter_scale=0.06,
    unsup_weight=1.0,
    teacher_norm='batch_track',
    predict_on='ensemble')
default_hooks = dict(
    checkpoint=dict(save_best=['ensemble/coco/bbox_mAP',
                               'teacher_a/coco/bbox_mAP'],
                    rule='greater'))
