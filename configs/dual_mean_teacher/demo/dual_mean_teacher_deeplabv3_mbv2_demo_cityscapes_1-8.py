# Dual Mean-Teacher (after DMT) on the demo Cityscapes 1/8: two
# teacher-student pairs started from the supervised 1/8 models of seeds 0
# and 1 (first run
#   python tools/train.py \
#     configs/supervised/demo/deeplabv3_mbv2_demo_cityscapes_1-8.py
#       --work-dir work_dirs/demo/deeplabv3_mbv2_demo_cityscapes_1-8
#   ... --cfg-options randomness.seed=1
#       --work-dir work_dirs/demo/deeplabv3_mbv2_demo_cityscapes_1-8_seed1
# or point model.student_{a,b}.init_cfg.checkpoint elsewhere). Both teachers
# label each unlabelled crop; a crop whose binarised (δ 0.5) class maps
# agree less than τ 0.5 (mean IoU) is rejected, the others are supervised
# by the consensus pixels (both teachers, same class, confidence ≥ δ).
# Validation: both teachers, both students and their ensemble (the mean of
# the teachers' softmax maps, also what test.py predicts).
_base_ = ('../../mean_teacher/demo/mean_teacher_deeplabv3_mbv2_demo_'
          'cityscapes_'
          '1-8.py')
segmentor = _base_.model.student
student_a = dict(segmentor, init_cfg=dict(
    type='Pretrained',
    checkpoint='work_dirs/demo/deeplabv3_mbv2_demo_cityscapes_1-8/'
    'iter_1000.pth'))
student_b = dict(segmentor, init_cfg=dict(
    type='Pretrained',
    checkpoint='work_dirs/demo/deeplabv3_mbv2_demo_cityscapes_1-8_seed1/'
    'iter_1000.pth'))
model = dict(
    _delete_=True,
    type='mmkd.DualMeanTeacherSegmentor',
    student_a=student_a,
    student_b=student_b,
    data_preprocessor=_base_.model.data_preprocessor,
    delta=0.5,
    agreement_thr=0.5,
    cutmix_prob=1.0,
    predict_on='ensemble')
default_hooks = dict(
    checkpoint=dict(save_best=['ensemble/mIoU', 'teacher_a/mIoU'],
                    rule='greater'))
