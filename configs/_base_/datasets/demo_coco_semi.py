# Semi-supervised demo COCO: labelled 10 % (fold 1) + the other 90 % as
# unlabelled images. Each unlabelled image is seen twice: a weak view for the
# teacher and a strong view (colour + geometric RandAugment, erasing) for the
# student; the geometric transforms are recorded as homographies.
_base_ = './demo_coco_detection.py'
dataset_type = 'CocoDataset'
data_root = 'data/coco_demo/'
metainfo = dict(classes=('circle', 'triangle', 'rectangle', 'star'))
scale = [(160, 128), (160, 192)]
branch_field = ['sup', 'unsup_teacher', 'unsup_student']
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
             'flip', 'flip_direction', 'homography_matrix')
color_space = [[dict(type='ColorTransform')], [dict(type='AutoContrast')],
               [dict(type='Equalize')], [dict(type='Sharpness')],
               [dict(type='Posterize')], [dict(type='Solarize')],
               [dict(type='Color')], [dict(type='Contrast')],
               [dict(type='Brightness')]]
geometric = [[dict(type='Rotate')], [dict(type='ShearX')],
             [dict(type='ShearY')], [dict(type='TranslateX')],
             [dict(type='TranslateY')]]

sup_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandAugment', aug_space=color_space, aug_num=1),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='MultiBranch', branch_field=branch_field,
         sup=dict(type='PackDetInputs'))
]
weak_pipeline = [
    dict(type='RandomResize', scale=scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys=meta_keys)
]
strong_pipeline = [
    dict(type='RandomResize', scale=scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomOrder', transforms=[
        dict(type='RandAugment', aug_space=color_space, aug_num=1),
        dict(type='RandAugment', aug_space=geometric, aug_num=1),
    ]),
    dict(type='RandomErasing', n_patches=(1, 5), ratio=(0, 0.2)),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='PackDetInputs', meta_keys=meta_keys)
]
unsup_pipeline = [
    dict(type='LoadImageFromFile', skip_bad=True),
    dict(type='LoadEmptyAnnotations'),
    dict(type='MultiBranch', branch_field=branch_field,
         unsup_teacher=weak_pipeline, unsup_student=strong_pipeline)
]
labeled_dataset = dict(
    type=dataset_type, data_root=data_root, metainfo=metainfo,
    ann_file='annotations/semi_anns/instances_train2017.1@10.json',
    data_prefix=dict(img='train2017/'),
    filter_cfg=dict(filter_empty_gt=True, min_size=4),
    pipeline=sup_pipeline)
unlabeled_dataset = dict(
    type=dataset_type, data_root=data_root, metainfo=metainfo,
    ann_file='annotations/semi_anns/instances_train2017.1@10-unlabeled.json',
    data_prefix=dict(img='train2017/'),
    filter_cfg=dict(filter_empty_gt=False),
    pipeline=unsup_pipeline)
# 1 labelled : 3 unlabelled images per batch; the ratio is stated once, in
# the sampler, and batch_size is a multiple of sum(ratio)
train_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='SemiSampler', ratio=(1, 3)),
    dataset=dict(type='SemiDataset', labeled=labeled_dataset,
                 unlabeled=unlabeled_dataset))
