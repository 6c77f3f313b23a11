# Baseline for ACAM-KD on identical runs: FitNet-style feature MSE,
# every FPN level, same teacher, student, inheritance and schedule as
# acam_kd_faster_rcnn_r34w2_r18_demo_coco.py.
_base_ = './acam_kd_faster_rcnn_r34w2_r18_demo_coco.py'
model = dict(
    distill_losses=dict(
        _delete_=True,
        fpn=dict(type='FeatureMSELoss',
                 student_channels=64, teacher_channels=64,
                 levels=5,
                 inputs=dict(student='student:neck',
                             teacher='teacher:neck'))))
custom_hooks = [dict(type='RNGStateHook')]
