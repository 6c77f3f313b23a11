# The label-hungry mean teacher (mean_teacher_deeplabv3_r18_demo_cityscapes_
# 1-16.py) with dynamic dual-threshold pseudo-labels instead of the fixed
# 0.95: per-class τ_high / τ_low by 2-means every 50 iterations on the
# teacher's last 2000 sampled pixel scores of each class.
_base_ = ('../../mean_teacher/demo/mean_teacher_deeplabv3_r18_demo_cityscapes_'
          '1-16.py')
model = dict(
    pseudo_labeller=dict(
        _delete_=True,
        type='mmkd.DynamicDualThreshold',
        num_classes=19,
        update_interval=50,
        buffer_size=2000,
        min_samples=50,
        default_high=0.9,
        default_low=0.5),
    threshold_scores='unlabelled')
custom_hooks = [
    dict(type='mmkd.EMATeacherHook', momentum=0.01),
    dict(type='mmkd.PseudoLabelStatsHook', interval=50, image_interval=250),
    dict(type='mmkd.PseudoThresholdHook', interval=50),
    dict(type='mmkd.RNGStateHook'),
]
