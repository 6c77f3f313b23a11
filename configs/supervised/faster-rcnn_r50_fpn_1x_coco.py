# Supervised Faster R-CNN R50-FPN on COCO 2017, the mmdet 1x protocol
# (8 GPUs x 2 images, 12 epochs, lr 0.02).
_base_ = [
    '../_base_/models/faster_rcnn_r50_fpn.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime_det.py'
]
