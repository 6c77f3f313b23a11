# Dual Mean-Teacher (after DMT) for Cityscapes 1/8 in the protocol of
# mean_teacher_cityscapes.py (UniMatch's setting: DeepLabV3+ R101 os16, crop
# 801, 2 + 2 per GPU x 4 GPUs, SGD 0.005 poly, OHEM, 240 epochs, slide
# eval): two pairs; a crop whose teachers' class maps (binarised at δ 0.5)
# agree less than τ 0.5 (mean IoU over present classes) is rejected, the
# others are supervised by the consensus pixels; validation and test use the
# ensemble of the two teachers (mean softmax). As built here the pairs share
# the ImageNet backbone and differ in their randomly initialised heads; DMT's
# warm start -- two supervised 1/8 models of different seeds -- is
#   --cfg-options model.student_a.init_cfg.checkpoint=A.pth
#                 model.student_b.init_cfg.checkpoint=B.pth
#   bash tools/dist_train.sh <this config> 4
_base_ = ('../mean_teacher/mean-teacher_deeplabv3plus_r101-os16_240e_semi-1-8-'
          'cityscapes.py')
segmentor = _base_.model.student
model = dict(
    _delete_=True,
    type='mmkd.DualMeanTeacherSegmentor',
    student_a=segmentor,
    student_b=segmentor,
    data_preprocessor=_base_.model.data_preprocessor,
    delta=0.5,
    agreement_thr=0.5,
    cutmix_prob=0.5,
    predict_on='ensemble')
default_hooks = dict(
    # a non-finite loss stops the run with one line, before any checkpoint
    # of non-finite weights is written (action='skip': skip such steps)
    nonfinite_loss=dict(type='mmkd.NonFiniteLossHook'),
    checkpoint=dict(save_best=['ensemble/mIoU', 'teacher_a/mIoU'],
                    rule='greater'))
