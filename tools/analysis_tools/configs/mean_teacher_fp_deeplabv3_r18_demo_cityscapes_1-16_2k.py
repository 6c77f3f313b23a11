# The single mean teacher with feature perturbation for twice the iterations
# (2000): the equal-compute row beside the Dual Mean-Teacher, whose step costs
# 1.76x this one's (README, "Dual Mean-Teacher") -- so 2000 single steps are
# slightly more compute than 1000 dual ones.
_base_ = ('../../../configs/mean_teacher/demo/mean_teacher_fp_deeplabv3_r18_'
          'demo_cityscapes_1-16.py')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=50),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=50, end=2000,
         by_epoch=False)
]
train_cfg = dict(max_iters=2000)
