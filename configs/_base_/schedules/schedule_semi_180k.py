# The Soft Teacher schedule: 180k iterations, SGD 0.01 (8 GPUs × 5 images),
# 500-iteration warm-up, ×0.1 at 120k and 160k; teacher and student
# evaluated every 4k iterations (the teacher is what tools/test.py uses).
train_cfg = dict(type='IterBasedTrainLoop', max_iters=180000,
                 val_interval=4000)
val_cfg = dict(type='MemberValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', begin=0, end=180000, by_epoch=False,
         milestones=[120000, 160000], gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))
# the batch these settings were tuned for (8 GPUs x 5: 1 labelled : 4
# unlabelled): on N processes
# each takes size / N (docs/user_guides/distributed.md)
global_batch = dict(size=40)
auto_scale_lr = dict(enable=False, base_batch_size=40)
