# A real but narrow Faster R-CNN for CPU demos and tests: ResNet-18 with
# base_channels=16 (a quarter of the usual width), FPN 64, 128 sampled
# anchors / RoIs, 256-d box head, anchor scale 4 for 160 px images.
# Trained from scratch: BN is trainable and no stage is frozen.
_base_ = './faster_rcnn_r50_fpn.py'
model = dict(
    backbone=dict(
        depth=18,
        base_channels=16,
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=None),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=64),
    rpn_head=dict(
        in_channels=64,
        feat_channels=64,
        anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=4)),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=128)),
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=300)))
