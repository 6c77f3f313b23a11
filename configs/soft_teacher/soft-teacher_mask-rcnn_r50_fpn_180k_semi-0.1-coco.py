# Soft Teacher for Mask R-CNN R50-FPN, COCO 10 % (fold 1): as
# soft_teacher_coco.py, plus a mask loss on unlabelled images whose targets
# are the teacher's masks of its confident boxes (score > cls_pseudo_thr),
# warped into the student's view.  Labelled images carry masks.
_base_ = './soft-teacher_faster-rcnn_r50_fpn_180k_semi-0.1-coco.py'
model = dict(
    student=dict(
        type='MaskRCNN',
        data_preprocessor=dict(pad_mask=True),
        roi_head=dict(
            mask_roi_extractor=dict(
                type='SingleRoIExtractor',
                roi_layer=dict(type='RoIAlign', output_size=14,
                               sampling_ratio=0),
                out_channels=256,
                featmap_strides=[4, 8, 16, 32]),
            mask_head=dict(
                type='FCNMaskHead',
                num_convs=4,
                in_channels=256,
                conv_out_channels=256,
                num_classes=80,
                loss_mask=dict(type='CrossEntropyLoss', use_mask=True,
                               loss_weight=1.0))),
        train_cfg=dict(rcnn=dict(mask_size=28)),
        test_cfg=dict(rcnn=dict(mask_thr_binary=0.5))),
    data_preprocessor=dict(data_preprocessor=dict(pad_mask=True)))
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
