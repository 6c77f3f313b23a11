# Supervised Mask R-CNN (narrow R18) on all of the demo COCO's labels, boxes
# and instance masks: the upper bound of the semi-supervised instance
# segmentation table.
_base_ = [
    '../../_base_/models/mask_rcnn_r18_fpn_tiny.py',
    '../../_base_/datasets/demo_coco_detection.py',
    '../../_base_/schedules/schedule_demo_det.py',
    '../../_base_/default_runtime_det.py'
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(160, 160), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(160, 160), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(metric=['bbox', 'segm'])
test_evaluator = val_evaluator
randomness = dict(seed=0)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000,
                    max_keep_ckpts=2, save_best='coco/segm_mAP',
                    rule='greater'))
log_processor = dict(by_epoch=False)
