# Dual Mean-Teacher (after DMT) on the label-hungry demo Cityscapes 1/16:
# two teacher-student pairs of DeepLabV3-R18(w/2)-D8 started from the
# supervised 1/16 models of seeds 0 and 1 (4000 iterations; first run
#   python tools/train.py \
#     configs/supervised/demo/deeplabv3_r18_demo_cityscapes_1-16_4k.py
#       --work-dir work_dirs/demo/deeplabv3_r18_demo_cityscapes_1-16_4k
#   ... --cfg-options randomness.seed=1
#       --work-dir work_dirs/demo/deeplabv3_r18_demo_cityscapes_1-16_4k_seed1
# or point model.student_{a,b}.init_cfg.checkpoint elsewhere); the agreement
# filter and consensus as the MobileNetV2 1/8 demo
# (dual_mean_teacher_deeplabv3_mbv2_demo_cityscapes_1-8.py), and UniMatch's
# feature perturbation for both students, as the single-teacher row it is
# compared with (mean_teacher_fp_deeplabv3_r18_demo_cityscapes_1-16.py).
_base_ = ('../../mean_teacher/demo/mean_teacher_deeplabv3_r18_demo_cityscapes_'
          '1-16.py')
segmentor = _base_.model.student
student_a = dict(segmentor, init_cfg=dict(
    type='Pretrained',
    checkpoint='work_dirs/demo/deeplabv3_r18_demo_cityscapes_1-16_4k/'
    'iter_4000.pth'))
student_b = dict(segmentor, init_cfg=dict(
    type='Pretrained',
    checkpoint='work_dirs/demo/deeplabv3_r18_demo_cityscapes_1-16_4k_seed1/'
    'iter_4000.pth'))
model = dict(
    _delete_=True,
    type='mmkd.DualMeanTeacherSegmentor',
    student_a=student_a,
    student_b=student_b,
    data_preprocessor=_base_.model.data_preprocessor,
    delta=0.5,
    agreement_thr=0.5,
    cutmix_prob=1.0,
    feature_dropout=0.5,
    feature_dropout_weight=0.5,
    predict_on='ensemble')
default_hooks = dict(
    checkpoint=dict(save_best=['ensemble/mIoU', 'teacher_a/mIoU'],
                    rule='greater'))
