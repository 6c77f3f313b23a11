# 2000 iterations from scratch at batch 4. AdamW (lr 1e-3, wd 0.05) with a
# 100-iteration warm-up, gradient clipping and x0.1 at 1500: measured here
# on the demo COCO, it reached 0.094 bbox mAP after 400 iterations where SGD
# reached 0.033 (lr 0.005) and 0.022 (lr 0.02, 300 iterations). The
# full-size configs keep the papers' SGD. Why 2000 (README, "the demo
# regime"): supervised 100 % doubled its mAP from 1000 to 2000 iterations.
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2000, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=100),
    dict(type='MultiStepLR', begin=0, end=2000, by_epoch=False,
         milestones=[1500], gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.001, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=4)
