# Semi-supervised CBCT in NIfTI (e.g. 3D CBCT Tooth / CTooth converted):
# data/cbct/{images,labels}/<case>.nii.gz, case lists labeled.txt (13 or 7
# in the RAIL paper), unlabeled.txt and val.txt. 1 labelled + 1 unlabelled
# 112x112x80 patch a step (RAIL's protocol); branches 'sup', and the same
# unlabelled patch as 'unsup_teacher' and 'unsup_student'. A plain folder of
# unlabelled scans instead of a list: --cfg-options
# train_dataloader.dataset.unlabeled.ann_file=''
# train_dataloader.dataset.unlabeled.data_prefix.img_path=<folder>
_base_ = './cbct.py'
patch_size = (112, 112, 80)
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
branch_field = ['sup', 'unsup_teacher', 'unsup_student']
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
    dict(type='LoadNiftiVolume', with_label=False, skip_bad=True),
    dict(type='MonaiCompose', transforms=[
        intensity,
        dict(type='SpatialPadd', keys=['img'], spatial_size=patch_size),
        dict(type='RandSpatialCropd', keys=['img'], roi_size=patch_size,
             random_size=False), *rot_flip]),
    dict(type='mmdet.MultiBranch', branch_field=branch_field,
         unsup_teacher=dict(type='PackVolumeInputs'),
         unsup_student=dict(type='PackVolumeInputs')),
]
data_root = 'data/cbct/'
volumes = dict(type='CBCTDataset', data_root=data_root,
               data_prefix=dict(img_path='images', seg_map_path='labels'))
train_dataloader = dict(
    _delete_=True,
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='mmkd.SemiSampler', ratio=(1, 1),
                 group_by_aspect_ratio=False),
    dataset=dict(
        type='mmkd.SemiDataset',
        labeled=dict(volumes, ann_file='labeled.txt',
                     pipeline=labeled_pipeline),
        unlabeled=dict(volumes, ann_file='unlabeled.txt', with_label=False,
                       pipeline=unlabeled_pipeline)))
