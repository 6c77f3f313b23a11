# mmdet 3.3's own SoftTeacher with the schedule of
# soft_teacher_faster_rcnn_r18_demo_coco_10p_3k.py (3000 iterations, x0.1
# at 2250): the reference of the longer semi-supervised stage.
_base_ = './mmdet_soft_teacher_faster_rcnn_r18_demo_coco_10p.py'
max_iters = 3000
train_cfg = dict(max_iters=max_iters, val_interval=500)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=50),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[max_iters * 3 // 4], gamma=0.1)
]
