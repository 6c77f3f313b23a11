# The name earlier commands used for Soft Teacher, Faster R-CNN R50-FPN,
# COCO 10 % labelled: the config itself is
# configs/soft_teacher/soft-teacher_faster-rcnn_r50_fpn_180k_semi-0.1-coco.py
_base_ = ('./soft_teacher/'
          'soft-teacher_faster-rcnn_r50_fpn_180k_semi-0.1-coco.py')
