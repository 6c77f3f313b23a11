# The demo CBCT (tools/make_demo_data.py): 80x80x48 NIfTI volumes, spacing
# 0.4x0.4x0.6 mm, 4 labelled + 12 unlabelled train cases, 4 val cases.
# Intensities clipped to [500, 2500] HU and scaled to [0, 1] (RAIL).
dataset_type = 'CBCTDataset'
data_root = 'data/cbct_demo/'
patch_size = (48, 48, 32)
keys = ['img', 'gt_seg_map']
train_pipeline = [
    dict(type='LoadNiftiVolume'),
    dict(
        type='MonaiCompose',
        transforms=[
            dict(type='ScaleIntensityRanged', keys=['img'], a_min=500,
                 a_max=2500, b_min=0.0, b_max=1.0, clip=True),
            dict(type='SpatialPadd', keys=keys, spatial_size=patch_size),
            # half of the patches centred on a tooth voxel: teeth are ~3 %
            # of the volume
            dict(type='RandCropByPosNegLabeld', keys=keys,
                 label_key='gt_seg_map', spatial_size=patch_size, pos=1,
                 neg=1, num_samples=1),
            dict(type='RandRotate90d', keys=keys, prob=0.5,
                 spatial_axes=(0, 1)),
            dict(type='RandFlipd', keys=keys, prob=0.5, spatial_axis=0),
            dict(type='RandFlipd', keys=keys, prob=0.5, spatial_axis=1),
        ]),
    dict(type='PackVolumeInputs')
]
test_pipeline = [
    dict(type='LoadNiftiVolume'),
    dict(
        type='MonaiCompose',
        transforms=[
            dict(type='ScaleIntensityRanged', keys=['img'], a_min=500,
                 a_max=2500, b_min=0.0, b_max=1.0, clip=True)
        ]),
    dict(type='PackVolumeInputs')
]
train_dataloader = dict(
    batch_size=2,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='labeled.txt',
        data_prefix=dict(img_path='images', seg_map_path='labels'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='val.txt',
        data_prefix=dict(img_path='images', seg_map_path='labels'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='VolumeSegMetric', num_classes=2)
test_evaluator = val_evaluator
