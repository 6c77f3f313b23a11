# 3D mean teacher (one V-Net student, its EMA teacher) on the demo CBCT: the
# single-teacher row beside RAIL, with RAIL's demo pipeline and schedule.
_base_ = [
    '../../_base_/datasets/demo_cbct_semi.py',
    '../../_base_/default_runtime_3d.py'
]
patch_size = (48, 48, 32)
model = dict(
    type='mmkd.VolumeMeanTeacher',
    student=dict(
        type='VolumeSegmentor',
        backbone=dict(type='VNet', in_channels=1, num_classes=2,
                      base_channels=8, dropout=0.5),
        num_classes=2,
        roi_size=patch_size,
        sw_overlap=0.5,
        min_component_size=20),
    unsup_weight=0.1,  # UA-MT's consistency weight and ramp (scaled)
    unsup_rampup_iters=300,
    data_preprocessor=dict(
        type='mmkd.MultiBranchDataPreprocessor',
        data_preprocessor=dict(type='BaseDataPreprocessor')))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=4e-4),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=50),
    dict(type='CosineAnnealingLR', T_max=550, eta_min=1e-4, by_epoch=False,
         begin=50, end=600)
]
custom_hooks = [
    dict(type='mmkd.EMATeacherHook', momentum=0.001, warmup=True),
    dict(type='mmkd.RNGStateHook'),
]
train_cfg = dict(type='mmkd.IterBasedTrainLoop', max_iters=600,
                 val_interval=300)
val_cfg = dict(type='mmkd.MemberValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=300,
                    max_keep_ckpts=2,
                    save_best=['teacher/cbct/Dice', 'student/cbct/Dice'],
                    rule='greater'))
randomness = dict(seed=0)
