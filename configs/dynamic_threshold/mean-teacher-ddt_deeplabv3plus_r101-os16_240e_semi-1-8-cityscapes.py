# Mean teacher on Cityscapes 1/8 with dynamic dual-threshold pseudo-labels
# (after HSSDA) instead of the fixed 0.95: per class τ_high / τ_low,
# recomputed every 200 iterations by 2-means on the teacher's last 10 000
# sampled pixel scores of that class (0.9 / 0.5 until it has 1000); pixels
# ≥ τ_high weight 1, τ_low ≤ p < τ_high weight p, below τ_low ignored.
_base_ = ('../mean_teacher/mean-teacher_deeplabv3plus_r101-os16_240e_semi-1-8-'
          'cityscapes.py')
model = dict(
    pseudo_labeller=dict(
        _delete_=True,
        type='mmkd.DynamicDualThreshold',
        num_classes=19,
        update_interval=200,
        buffer_size=10000,
        min_samples=1000,
        max_observed_per_class=2000,
        default_high=0.9,
        default_low=0.5),
    threshold_scores='unlabelled')
custom_hooks = [
    dict(type='mmkd.EMATeacherHook', momentum=0.001),
    dict(type='mmkd.PseudoLabelStatsHook', interval=50, image_interval=2000),
    dict(type='mmkd.PseudoThresholdHook', interval=200),
    dict(type='mmkd.RNGStateHook'),
]
