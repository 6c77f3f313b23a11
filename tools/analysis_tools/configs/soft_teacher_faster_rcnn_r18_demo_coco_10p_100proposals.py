# The demo Soft Teacher with a cheaper teacher pass: the teacher
# pseudo-labels from its 100 best RPN proposals per image instead of its
# test-time 300 (evaluation keeps 300). On the 2-core Intel machine the
# step is 1.36x the supervised one instead of 1.48x, at the same mAP on
# 3 seeds (README, "Cost of the semi-supervised step").
_base_ = ('../../../configs/soft_teacher/demo/soft_teacher_faster_rcnn_r18_'
          'demo_coco_10p.py')
model = dict(pseudo_label_rpn_cfg=dict(max_per_img=100))
