# RAIL's learning rate (its code's get_lr): linear warm-up to 0.01 over
# 1000 iterations, constant until 4000, cosine to 1e-5 at 8000.
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=1000),
    dict(type='CosineAnnealingLR', T_max=4000, eta_min=1e-5, by_epoch=False,
         begin=4000, end=8000)
]
train_cfg = dict(type='mmkd.IterBasedTrainLoop', max_iters=8000,
                 val_interval=1000)
val_cfg = dict(type='mmkd.MemberValLoop')
test_cfg = dict(type='TestLoop')
