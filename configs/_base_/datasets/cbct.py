# A CBCT tooth data set in NIfTI (e.g. 3D CBCT Tooth / CTooth converted):
# data/cbct/{images,labels}/<case>.nii.gz and case lists labeled.txt,
# unlabeled.txt, val.txt. Patches 112x112x80, batch 1 labelled (RAIL).
_base_ = './demo_cbct.py'
data_root = 'data/cbct/'
patch_size = (112, 112, 80)
keys = ['img', 'gt_seg_map']
train_pipeline = [
    dict(type='LoadNiftiVolume'),
    dict(
        type='MonaiCompose',
        transforms=[
            dict(type='ScaleIntensityRanged', keys=['img'], a_min=500,
                 a_max=2500, b_min=0.0, b_max=1.0, clip=True),
            dict(type='SpatialPadd', keys=keys, spatial_size=patch_size),
            dict(type='RandSpatialCropd', keys=keys, roi_size=patch_size,
                 random_size=False),
            dict(type='RandRotate90d', keys=keys, prob=0.5,
                 spatial_axes=(0, 1)),
            dict(type='RandFlipd', keys=keys, prob=0.5, spatial_axis=0),
            dict(type='RandFlipd', keys=keys, prob=0.5, spatial_axis=1),
        ]),
    dict(type='PackVolumeInputs')
]
train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=2, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
