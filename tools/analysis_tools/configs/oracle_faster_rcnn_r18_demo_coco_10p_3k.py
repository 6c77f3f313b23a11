# The upper bound of soft_teacher_faster_rcnn_r18_demo_coco_10p_3k.py: the
# same 3000 iterations (4 images a step, AdamW 1e-3, x0.1 at 2250) from the
# same supervised 10 % checkpoint (load_from), on all demo COCO images *with
# their labels* -- what Soft Teacher would reach if its pseudo-labels were
# the unlabelled images' ground truth. tools/analysis_tools/benchmark_ssod.py
# sets
# load_from to each seed's supervised 10 % model.
_base_ = '../../../configs/supervised/demo/faster_rcnn_r18_demo_coco_full.py'
max_iters = 3000
train_cfg = dict(max_iters=max_iters, val_interval=500)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=50),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[max_iters * 3 // 4], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=500))
