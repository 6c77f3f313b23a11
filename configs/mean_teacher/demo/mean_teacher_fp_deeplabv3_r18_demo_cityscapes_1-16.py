# The mean teacher of mean_teacher_deeplabv3_r18_demo_cityscapes_1-16.py with
# UniMatch's feature perturbation (Yang et al., CVPR 2023): the student also
# segments the weak view through channel dropout (0.5) on its encoder
# features, against the same pseudo-labels; unsupervised loss
# 0.5 · strong view + 0.5 · perturbed features (UniMatch's weights).
_base_ = './mean_teacher_deeplabv3_r18_demo_cityscapes_1-16.py'
model = dict(feature_dropout=0.5, feature_dropout_weight=0.5)
