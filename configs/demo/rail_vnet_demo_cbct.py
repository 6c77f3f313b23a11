# RAIL (arXiv 2505.03538) on the demo CBCT: two groups of a V-Net and a
# ResVNet (8 base channels), each group's teacher the EMA of its V-Net, 4
# labelled + 12 unlabelled volumes, 48x48x32 patches, 1 labelled + 1
# unlabelled patch a step; the 4-student ensemble evaluated by sliding
# window. The paper's protocol is configs/rail_cbct.py.
_base_ = ['../_base_/datasets/demo_cbct.py', '../_base_/default_runtime_3d.py']
patch_size = (48, 48, 32)
keys = ['img', 'gt_seg_map']
intensity = dict(type='ScaleIntensityRanged', keys=['img'], a_min=500,
                 a_max=2500, b_min=0.0, b_max=1.0, clip=True)
rot_flip = [
    dict(type='RandRotate90d', keys=keys, prob=0.5, spatial_axes=(0, 1),
         allow_missing_keys=True),
    dict(type='RandFlipd', keys=keys, prob=0.5, spatial_axis=0,
         allow_missing_keys=True),
    dict(type='RandFlipd', keys=keys, prob=0.5, spatial_axis=1,
         allow_missing_keys=True),
]
branch_field = ['sup', 'unsup']
labeled_pipeline = [
    dict(type='LoadNiftiVolume'),
    dict(type='MonaiCompose', transforms=[
        intensity,
        dict(type='SpatialPadd', keys=keys, spatial_size=patch_size),
        dict(type='RandCropByPosNegLabeld', keys=keys,
             label_key='gt_seg_map', spatial_size=patch_size, pos=1, neg=1,
             num_samples=1), *rot_flip]),
    dict(type='mmdet.MultiBranch', branch_field=branch_field,
         sup=dict(type='PackVolumeInputs')),
]
unlabeled_pipeline = [
    dict(type='LoadNiftiVolume', with_label=False),
    dict(type='MonaiCompose', transforms=[
        intensity,
        dict(type='SpatialPadd', keys=['img'], spatial_size=patch_size),
        dict(type='RandSpatialCropd', keys=['img'], roi_size=patch_size,
             random_size=False), *rot_flip]),
    dict(type='mmdet.MultiBranch', branch_field=branch_field,
         unsup=dict(type='PackVolumeInputs')),
]
data_root = 'data/cbct_demo/'
volumes = dict(type='CBCTDataset', data_root=data_root,
               data_prefix=dict(img_path='images', seg_map_path='labels'))
train_dataloader = dict(
    _delete_=True,
    batch_size=2,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='mmkd.SemiSampler', ratio=(1, 1),
                 group_by_aspect_ratio=False),
    dataset=dict(
        type='mmkd.SemiDataset',
        labeled=dict(volumes, ann_file='labeled.txt',
                     pipeline=labeled_pipeline),
        unlabeled=dict(volumes, ann_file='unlabeled.txt', with_label=False,
                       pipeline=unlabeled_pipeline)))

network = dict(in_channels=1, num_classes=2, base_channels=8)
model = dict(
    type='mmkd.RAIL',
    vnet=dict(type='VNet', dropout=0.5, **network),
    resvnet=dict(type='ResVNet', **network),
    num_classes=2,
    cal_weight=20.0,
    teacher_weight=10.0,
    rampup_iters=300,  # the paper's 3000 of 8000 group steps, scaled
    group_iters=50,
    roi_size=patch_size,
    sw_overlap=0.5,
    min_component_size=20,
    data_preprocessor=dict(
        type='mmdet.MultiBranchDataPreprocessor',
        data_preprocessor=dict(type='BaseDataPreprocessor')))

# one SGD per student (the paper: lr 0.01, momentum 0.9, wd 4e-4; the demo
# uses the supervised demo V-Net's 0.05)
student_optim = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=4e-4),
    clip_grad=dict(max_norm=10, norm_type=2))
optim_wrapper = dict(
    constructor='mmkd.MemberOptimWrapperConstructor',
    vnet_0=student_optim, resvnet_0=student_optim,
    vnet_1=student_optim, resvnet_1=student_optim)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=50),
    dict(type='CosineAnnealingLR', T_max=550, eta_min=1e-4, by_epoch=False,
         begin=50, end=600)
]
# under DDP each student is wrapped on its own (RAIL steps them one by one)
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel',
                         broadcast_buffers=False,
                         find_unused_parameters=True)
custom_hooks = [
    # d = min(1 - 1/(t_g + 1), 0.999) over each group's own steps
    dict(type='mmkd.EMATeacherHook', momentum=0.001, warmup=True),
    dict(type='mmkd.RNGStateHook'),
]
train_cfg = dict(type='mmkd.IterBasedTrainLoop', max_iters=600,
                 val_interval=300)
val_cfg = dict(type='mmkd.MemberValLoop', members=['students', 'teacher_0'])
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=300,
                    max_keep_ckpts=2, save_best='students/cbct/Dice',
                    rule='greater'))
randomness = dict(seed=0)
