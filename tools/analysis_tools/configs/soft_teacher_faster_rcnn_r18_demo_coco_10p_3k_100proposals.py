# The 3000-iteration Soft Teacher stage with the cheaper teacher pass: the
# teacher pseudo-labels from its 100 best RPN proposals per image instead
# of its test-time 300 (evaluation keeps 300), as
# soft_teacher_faster_rcnn_r18_demo_coco_10p_100proposals.py does for the
# 1000-iteration stage (README, "Cost of the semi-supervised step").
_base_ = ('../../../configs/soft_teacher/demo/soft_teacher_faster_rcnn_r18_'
          'demo_coco_10p_3k.py')
model = dict(pseudo_label_rpn_cfg=dict(max_per_img=100))
