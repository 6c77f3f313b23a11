# The oracle of oracle_faster_rcnn_r18_demo_coco_10p_3k.py at twice the
# schedule (6000 iterations, x0.1 at 4500): is the all-labels model near its
# plateau at the semi-supervised schedule? (the demo regime asks that
# doubling it adds < 10 % relative). tools/analysis_tools/benchmark_ssod.py
# --runs oracle
# --oracle-config <this file> sets load_from to each seed's supervised 10 %.
_base_ = './oracle_faster_rcnn_r18_demo_coco_10p_3k.py'
max_iters = 6000
train_cfg = dict(max_iters=max_iters, val_interval=1000)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=50),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[max_iters * 3 // 4], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=1000))
