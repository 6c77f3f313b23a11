# Soft Teacher for Mask R-CNN on the demo COCO (10 % labelled): the student
# also learns masks on unlabelled images, from the teacher's masks of its
# confident boxes (score > cls_pseudo_thr) warped into the student's view.
# Starts from the supervised Mask R-CNN 10 % model
# (configs/supervised/demo/mask_rcnn_r18_demo_coco_10p.py).
_base_ = './soft_teacher_faster_rcnn_r18_demo_coco_10p.py'
mask_head = dict(
    mask_roi_extractor=dict(
        type='SingleRoIExtractor',
        roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
        out_channels=64,
        featmap_strides=[4, 8, 16, 32]),
    mask_head=dict(
        type='FCNMaskHead',
        num_convs=4,
        in_channels=64,
        conv_out_channels=64,
        num_classes=4,
        loss_mask=dict(type='CrossEntropyLoss', use_mask=True,
                       loss_weight=1.0)))
model = dict(
    student=dict(
        type='MaskRCNN',
        init_cfg=dict(checkpoint='work_dirs/demo/mask_rcnn_r18_demo_coco_10p/'
                      'iter_2000.pth'),
        data_preprocessor=dict(pad_mask=True),
        roi_head=mask_head,
        train_cfg=dict(rcnn=dict(mask_size=28)),
        test_cfg=dict(rcnn=dict(mask_thr_binary=0.5))),
    data_preprocessor=dict(data_preprocessor=dict(pad_mask=True)))
# labelled images: boxes and masks
sup_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=_base_.scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandAugment', aug_space=_base_.color_space, aug_num=1),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='MultiBranch', branch_field=_base_.branch_field,
         sup=dict(type='PackDetInputs'))
]
train_dataloader = dict(dataset=dict(labeled=dict(pipeline=sup_pipeline)))
val_evaluator = dict(metric=['bbox', 'segm'])
test_evaluator = val_evaluator
default_hooks = dict(
    checkpoint=dict(save_best=['teacher/coco/segm_mAP',
                               'student/coco/segm_mAP']))
