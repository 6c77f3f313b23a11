# 3D mean teacher (one V-Net student, 16 filters, and its EMA teacher) on a
# CBCT tooth data set: RAIL's pipeline and schedule
# (configs/rail/rail_vnet-resvnet_8k_semi-cbct.py),
# UA-MT's consistency (noisy teacher input, softmax MSE, weight 0.1).
_base_ = [
    '../_base_/datasets/cbct_semi.py', '../_base_/schedules/schedule_rail.py',
    '../_base_/default_runtime_3d.py'
]
patch_size = (112, 112, 80)
model = dict(
    type='mmkd.VolumeMeanTeacher',
    student=dict(
        type='VolumeSegmentor',
        backbone=dict(type='VNet', in_channels=1, num_classes=2,
                      base_channels=16, dropout=0.5),
        num_classes=2,
        roi_size=patch_size,
        sw_overlap=(0.428, 0.428, 0.6),  # stride 64/64/32
        min_component_size=3000),
    unsup_weight=0.1,
    unsup_rampup_iters=3000,
    data_preprocessor=dict(
        type='mmkd.MultiBranchDataPreprocessor',
        data_preprocessor=dict(type='BaseDataPreprocessor')))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=4e-4))
custom_hooks = [
    dict(type='mmkd.EMATeacherHook', momentum=0.001, warmup=True),
    dict(type='mmkd.RNGStateHook'),
]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000,
                    max_keep_ckpts=2,
                    save_best=['teacher/cbct/Dice', 'student/cbct/Dice'],
                    rule='greater'))
randomness = dict(seed=1337)
