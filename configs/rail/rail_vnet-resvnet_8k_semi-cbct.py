# RAIL (Region-Aware Instructive Learning, arXiv 2505.03538) on a CBCT tooth
# data set laid out as NIfTI files (configs/_base_/datasets/cbct_semi.py):
# the paper's protocol -- two groups of a V-Net (16 filters, dropout 0.5)
# and a ResVNet (3D ResNet-34 encoder), each group's teacher the EMA of its
# V-Net, patches 112x112x80, 1 labelled + 1 unlabelled a step, SGD 0.01 per
# student, 8000 iterations, λ_c -> 20 and λ_T -> 10 over 3000 group steps;
# the 4-student ensemble by sliding window (stride 64/64/32), components
# under 3000 voxels removed; Dice, Jaccard, HD95, ASD in voxels and mm.
# Departures from the reference code: shared/specs/rail_reference.md.
_base_ = [
    '../_base_/datasets/cbct_semi.py', '../_base_/schedules/schedule_rail.py',
    '../_base_/default_runtime_3d.py'
]
patch_size = (112, 112, 80)
network = dict(in_channels=1, num_classes=2, base_channels=16)
# each student a VolumeSegmentor: CE + squared soft Dice (RAIL's L_s
# supervised part), its sliding window predicts the 4-student ensemble
segmentor = dict(
    type='VolumeSegmentor',
    num_classes=2,
    dice_squared=True,
    roi_size=patch_size,
    sw_overlap=(0.428, 0.428, 0.6),  # stride 64/64/32 (int(112 x 0.572))
    min_component_size=3000)
model = dict(
    type='mmkd.RAIL',
    vnet=dict(segmentor, backbone=dict(type='VNet', dropout=0.5, **network)),
    resvnet=dict(segmentor, backbone=dict(type='ResVNet', **network)),
    alpha=0.5,
    beta=0.05,
    temperature=0.1,
    cal_weight=20.0,
    teacher_weight=10.0,
    rampup_iters=3000,
    group_iters=195,  # the reference's round: 13 labelled cases x 15 crops
    data_preprocessor=dict(
        type='mmkd.MultiBranchDataPreprocessor',
        data_preprocessor=dict(type='BaseDataPreprocessor')))
student_optim = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=4e-4))
optim_wrapper = dict(
    constructor='mmkd.MemberOptimWrapperConstructor',
    vnet_0=student_optim, resvnet_0=student_optim,
    vnet_1=student_optim, resvnet_1=student_optim)
# under DDP each student is wrapped on its own (RAIL steps them one by one)
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel',
                         broadcast_buffers=False,
                         find_unused_parameters=True)
custom_hooks = [
    # d = min(1 - 1/(t_g + 1), 0.999) over each group's own steps
    dict(type='mmkd.EMATeacherHook', momentum=0.001, warmup=True),
    dict(type='mmkd.RNGStateHook'),
]
val_cfg = dict(members=['students'])
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000,
                    max_keep_ckpts=2, save_best='students/cbct/Dice',
                    rule='greater'))
randomness = dict(seed=1337)  # the reference code's
