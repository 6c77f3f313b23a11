# The mean teacher with UniMatch's feature perturbation
# (mean_teacher_fp_deeplabv3_r18_demo_cityscapes_1-16.py) and dynamic
# dual-threshold pseudo-labels instead of the fixed 0.95 (the settings of
# mean_teacher_deeplabv3_r18_demo_cityscapes_1-16_dynamic.py, unchanged).
_base_ = './mean_teacher_deeplabv3_r18_demo_cityscapes_1-16_dynamic.py'
model = dict(feature_dropout=0.5, feature_dropout_weight=0.5)
