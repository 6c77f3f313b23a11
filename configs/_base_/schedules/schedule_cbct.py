# RAIL's optimiser: SGD 0.01, momentum 0.9, wd 4e-4, linear warm-up 1000,
# cosine to 1e-5 at 8000 iterations.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=4e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=1000),
    dict(type='CosineAnnealingLR', T_max=7000, eta_min=1e-5, by_epoch=False,
         begin=1000, end=8000)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=8000, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
