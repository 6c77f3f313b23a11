# Mean teacher with dynamic dual-threshold pseudo-labels (after HSSDA) on the
# demo Cityscapes 1/8: the fixed 0.95 confidence threshold replaced by
# per-class τ_high / τ_low, recomputed every 50 iterations by 2-means on the
# teacher's last 2000 sampled pixel scores of each class (0.9 / 0.5 until a
# class has 50). Pixels ≥ τ_high: weight 1; τ_low ≤ p < τ_high: weight p;
# below τ_low: ignore_index.
_base_ = ('../../mean_teacher/demo/mean_teacher_deeplabv3_mbv2_demo_'
          'cityscapes_'
          '1-8.py')
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
