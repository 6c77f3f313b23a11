# Supervised Faster R-CNN on all of the demo COCO's labels (the upper bound
# of the semi-supervised table).
_base_ = [
    '../../_base_/models/faster_rcnn_r18_fpn_tiny.py',
    '../../_base_/datasets/demo_coco_detection.py',
    '../../_base_/schedules/schedule_demo_det.py',
    '../../_base_/default_runtime_det.py'
]
randomness = dict(seed=0)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000,
                    max_keep_ckpts=2, save_best='coco/bbox_mAP',
                    rule='greater'))
log_processor = dict(by_epoch=False)
