# ACAM-KD, Cityscapes: DeepLabV3 R101-D8 teacher -> DeepLabV3 MobileNetV2
# student, the papers' protocol: 40k iterations, SGD lr 0.02 poly, wd 5e-4,
# 512×1024 crops, batch 16 (8 GPUs × 2); the segmentation logits
# (decode_head.conv_seg) distilled with M = 19 masks (one per class).
# Published: 73.12 -> 76.21 mIoU.  Teacher: mmseg's model-zoo
# DeepLabV3-R101-D8 512×1024 80k in checkpoints/.
_base_ = '../supervised/deeplabv3_mobilenet-v2-d8_40k_cityscapes-512x1024.py'
student = _base_.model
norm_cfg = dict(type='SyncBN', requires_grad=True)
teacher = dict(
    type='EncoderDecoder',
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=dict(
        type='ResNetV1c', depth=101, num_stages=4, out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), norm_cfg=norm_cfg,
        norm_eval=False, style='pytorch', contract_dilation=True),
    decode_head=dict(
        type='ASPPHead', in_channels=2048, in_index=3, channels=512,
        dilations=(1, 12, 24, 36), dropout_ratio=0.1, num_classes=19,
        norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead', in_channels=1024, in_index=2, channels=256,
        num_convs=1, concat_input=False, dropout_ratio=0.1, num_classes=19,
        norm_cfg=norm_cfg, align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
model = dict(
    _delete_=True,
    type='mmkd.FeatureDistiller',
    # explicit: mmengine's Runner otherwise injects the top-level
    # `data_preprocessor` (no crop `size`) into a model dict without one
    data_preprocessor=student.data_preprocessor,
    student=student,
    teacher=teacher,
    teacher_ckpt='checkpoints/deeplabv3_r101-d8_512x1024_80k_cityscapes.pth',
    distill_losses=dict(
        logits=dict(type='mmkd.ACAMKDLoss', student_channels=19,
                    teacher_channels=19, num_masks=19,
                    inputs=dict(student='student:decode_head.conv_seg',
                                teacher='teacher:decode_head.conv_seg'))))
train_dataloader = dict(batch_size=2)
optim_wrapper = dict(optimizer=dict(lr=0.02))
custom_hooks = [dict(type='mmkd.RNGStateHook')]
