# Mean teacher with CutMix for semantic segmentation on the demo Cityscapes:
# DeepLabV3-MobileNetV2, 1/8 of the labels + the other 7/8 unlabelled,
# 2 labelled : 2 unlabelled crops per batch. Starts from the supervised 1/8
# model (first run
#   python tools/train.py \
#     configs/supervised/demo/deeplabv3_mbv2_demo_cityscapes_1-8.py
#       --work-dir work_dirs/demo/deeplabv3_mbv2_demo_cityscapes_1-8
# or point model.student.init_cfg.checkpoint at another checkpoint) and
# trains 1000 more iterations; the teacher is the EMA of the student.
# The weak view (resize, crop, flip) is shared by teacher and student; the
# student's adds photometric distortion, grayscale and CutMix (in the model).
_base_ = '../../supervised/demo/deeplabv3_mbv2_demo_cityscapes_1-8.py'
segmentor = _base_.model
segmentor.init_cfg = dict(
    type='Pretrained',
    checkpoint='work_dirs/demo/deeplabv3_mbv2_demo_cityscapes_1-8/'
    'iter_1000.pth')
model = dict(
    _delete_=True,
    type='mmkd.SemiSegmentor',
    student=segmentor,
    data_preprocessor=dict(type='mmdet.MultiBranchDataPreprocessor',
                           data_preprocessor=segmentor.data_preprocessor),
    pseudo_labeller=dict(type='mmkd.FixedThreshold', score_thr=0.95),
    cutmix_prob=1.0,
    sup_weight=1.0,
    unsup_weight=1.0)

crop_size = (128, 128)
branch_field = ['sup', 'unsup_teacher', 'unsup_student']
geometry = [
    dict(type='RandomResize', scale=(256, 128), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
]
labeled_pipeline = [
    dict(type='mmkd.LoadImageFromFile'),
    dict(type='mmkd.LoadSegAnnotations'),
    geometry[0],
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    geometry[1],
    dict(type='PhotoMetricDistortion'),
    dict(type='mmdet.MultiBranch', branch_field=branch_field,
         sup=dict(type='PackSegInputs'))
]
# the unlabelled images' labels are loaded as hidden ground truth for the
# pseudo-label statistics only (no loss reads them; the crop ignores them)
unlabeled_pipeline = [
    dict(type='mmkd.LoadImageFromFile', skip_bad=True),
    dict(type='mmkd.LoadSegAnnotations'),
    geometry[0],
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    geometry[1],
    dict(type='mmdet.MultiBranch', branch_field=branch_field,
         unsup_teacher=[dict(type='PackSegInputs')],
         unsup_student=[
             dict(type='PhotoMetricDistortion'),
             dict(type='RandomGrayscale', prob=0.2, keep_channels=True),
             dict(type='PackSegInputs')
         ])
]
data_root = 'data/cityscapes_demo/'
dataset = dict(
    type='mmkd.CityscapesDataset', data_root=data_root,
    data_prefix=dict(img_path='leftImg8bit/train',
                     seg_map_path='gtFine/train'))
train_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='mmkd.SemiSampler', ratio=(2, 2),
                 group_by_aspect_ratio=False),
    dataset=dict(
        type='mmkd.SemiDataset',
        labeled=dict(dataset, ann_file='splits/1_8/labeled.txt',
                     pipeline=labeled_pipeline),
        unlabeled=dict(dataset, ann_file='splits/1_8/unlabeled.txt',
                       pipeline=unlabeled_pipeline)))
custom_hooks = [
    dict(type='mmkd.EMATeacherHook', momentum=0.01),
    dict(type='mmkd.PseudoLabelStatsHook', interval=50),
    dict(type='mmkd.RNGStateHook'),
]
train_cfg = dict(type='mmkd.IterBasedTrainLoop', max_iters=1000,
                 val_interval=500)
val_cfg = dict(type='mmkd.MemberValLoop')
default_hooks = dict(
    checkpoint=dict(save_best=['teacher/mIoU', 'student/mIoU'],
                    rule='greater'))
