# Mean teacher with CutMix for semi-supervised semantic segmentation on
# Cityscapes, 1/8 of the train set labelled (372 images) and the rest
# unlabelled, in the field's common protocol -- UniMatch's Cityscapes setting
# (Yang et al., CVPR 2023; its configs/cityscapes.yaml):
#   DeepLabV3+ ResNet-101, output stride 16 (ASPP 6/12/18), crop 801,
#   2 labelled + 2 unlabelled crops per GPU x 4 GPUs, SGD lr 0.005 for
#   backbone and head alike (momentum 0.9, wd 1e-4, poly 0.9), 240 epochs of
#   the unlabelled set, OHEM on the labelled loss (thresh 0.7, min_kept
#   200 000), sliding-window evaluation at 2048x1024.
# UniMatch's confidence threshold is 0 in its latest version (0.95 in an
# earlier one, with crop 769, ResNet-50 at output stride 8, 8 GPUs x 1);
# here the mean teacher's fixed 0.95 (the demo table's row);
# mean_teacher_cityscapes_dynamic.py replaces it by dynamic dual thresholds.
# Unlike UniMatch (one network, no EMA), the pseudo-labels come from the EMA
# teacher (momentum 0.001, i.e. decay 0.999).
#
# Data: data/cityscapes/{leftImg8bit,gtFine}/{train,val}/<city>/ with
# *_gtFine_labelTrainIds.png (cityscapesscripts' createTrainIdLabelImgs),
# splits by  python tools/misc/split_cityscapes.py --data-root data/cityscapes
#   python tools/train.py <this config>
#   bash tools/dist_train.sh <this config> 4
_base_ = [
    '../_base_/models/deeplabv3plus_r101_os16.py',
    '../_base_/datasets/cityscapes.py', '../_base_/default_runtime_seg.py'
]
split = '1_8'
# one epoch = the unlabelled images / (2 per GPU x 4 GPUs); 240 epochs
max_iters = 240 * -(-(2975 - 372) // 8)  # 78 240
crop_size = (801, 801)

segmentor = _base_.model
segmentor.data_preprocessor.size = crop_size
segmentor.decode_head.sampler = dict(type='OHEMPixelSampler', thresh=0.7,
                                     min_kept=200000)
# sliding-window evaluation (UniMatch: windows of the crop, stride 2/3 of it)
segmentor.test_cfg = dict(mode='slide', crop_size=crop_size,
                          stride=(534, 534))
model = dict(
    _delete_=True,
    type='mmkd.SemiSegmentor',
    student=segmentor,
    data_preprocessor=dict(type='mmdet.MultiBranchDataPreprocessor',
                           data_preprocessor=segmentor.data_preprocessor),
    pseudo_labeller=dict(type='mmkd.FixedThreshold', score_thr=0.95),
    cutmix_prob=0.5,
    sup_weight=1.0,
    unsup_weight=1.0,
    predict_on='teacher')

branch_field = ['sup', 'unsup_teacher', 'unsup_student']
weak = [
    dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
]
labeled_pipeline = [
    dict(type='mmkd.LoadImageFromFile'),
    dict(type='mmkd.LoadSegAnnotations'),
    *weak,
    dict(type='mmdet.MultiBranch', branch_field=branch_field,
         sup=dict(type='PackSegInputs'))
]
# strong view = weak view + colour jitter, grayscale, blur (CutMix between
# the unlabelled images is the model's); the unlabelled labels are loaded as
# hidden ground truth for the pseudo-label statistics only
unlabeled_pipeline = [
    dict(type='mmkd.LoadImageFromFile', skip_bad=True),
    dict(type='mmkd.LoadSegAnnotations'),
    *weak,
    dict(type='mmdet.MultiBranch', branch_field=branch_field,
         unsup_teacher=[dict(type='PackSegInputs')],
         unsup_student=[
             dict(type='PhotoMetricDistortion'),
             dict(type='RandomGrayscale', prob=0.2, keep_channels=True),
             dict(type='mmkd.RandomGaussianBlur', prob=0.5,
                  sigma=(0.1, 2.0)),
             dict(type='PackSegInputs')
         ])
]
dataset = dict(
    type='mmkd.CityscapesDataset', data_root=_base_.data_root,
    data_prefix=dict(img_path='leftImg8bit/train',
                     seg_map_path='gtFine/train'))
train_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='mmkd.SemiSampler', ratio=(2, 2),
                 group_by_aspect_ratio=False),
    dataset=dict(
        type='mmkd.SemiDataset',
        labeled=dict(dataset, ann_file=f'splits/{split}/labeled.txt',
                     pipeline=labeled_pipeline),
        unlabeled=dict(dataset, ann_file=f'splits/{split}/unlabeled.txt',
                       pipeline=unlabeled_pipeline)))
custom_hooks = [
    dict(type='mmkd.EMATeacherHook', momentum=0.001),
    dict(type='mmkd.PseudoLabelStatsHook', interval=50, image_interval=2000),
    dict(type='mmkd.RNGStateHook'),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(type='mmkd.IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=4000)
val_cfg = dict(type='mmkd.MemberValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    # a non-finite loss stops the run with one line, before any checkpoint
    # of non-finite weights is written (action='skip': skip such steps)
    nonfinite_loss=dict(type='mmkd.NonFiniteLossHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000,
                    max_keep_ckpts=3,
                    save_best=['teacher/mIoU', 'student/mIoU'],
                    rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
# the batch these settings were tuned for (4 GPUs x 2 labelled + 2
# unlabelled): on N processes
# each takes size / N (docs/user_guides/distributed.md)
global_batch = dict(size=16)
auto_scale_lr = dict(enable=False, base_batch_size=16)
