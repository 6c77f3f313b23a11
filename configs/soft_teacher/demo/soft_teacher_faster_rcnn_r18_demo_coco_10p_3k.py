# Soft Teacher on the demo COCO 10 % with a three times longer
# semi-supervised stage: 3000 iterations (~5 passes over the 1800 unlabelled
# images at 3 a step) from the supervised 10 % model, x0.1 at 2250.
_base_ = './soft_teacher_faster_rcnn_r18_demo_coco_10p.py'
max_iters = 3000
train_cfg = dict(max_iters=max_iters, val_interval=500)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=50),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[max_iters * 3 // 4], gamma=0.1)
]
