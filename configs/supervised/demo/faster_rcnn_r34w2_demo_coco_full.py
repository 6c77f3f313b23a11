# The demo distillation teacher: Faster R-CNN with a deeper and wider
# backbone (ResNet-34, base 32 = half width) than the student
# (faster_rcnn_r18_demo_coco_full.py: ResNet-18, base 16), the same FPN
# width (64) so that the student's neck and heads can inherit its weights.
# Trained on all demo COCO labels, like the student.
_base_ = './faster_rcnn_r18_demo_coco_full.py'
model = dict(
    backbone=dict(depth=34, base_channels=32),
    neck=dict(in_channels=[32, 64, 128, 256]))
