# Soft Teacher, COCO full: all of train2017 labelled + the 123k images of
# unlabeled2017 (data/coco/unlabeled2017/, read as a folder: no JSON
# needed), unsup_weight 2.0 and the paper's longer schedule (720k
# iterations, steps at 480k / 680k).  Published: 40.9 -> 44.5 mAP.
_base_ = './soft-teacher_faster-rcnn_r50_fpn_180k_semi-0.1-coco.py'
model = dict(unsup_weight=2.0)
train_dataloader = dict(
    dataset=dict(
        labeled=dict(ann_file='annotations/instances_train2017.json'),
        unlabeled=dict(
            _delete_=True,
            type='UnlabeledImageFolder',
            data_root='data/coco/',
            data_prefix=dict(img='unlabeled2017/'),
            pipeline=_base_.unsup_pipeline)))
train_cfg = dict(max_iters=720000)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', begin=0, end=720000, by_epoch=False,
         milestones=[480000, 680000], gamma=0.1)
]
