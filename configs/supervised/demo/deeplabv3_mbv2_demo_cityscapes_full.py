# Supervised DeepLabV3-MobileNetV2 on all demo Cityscapes labels, from
# scratch (BN instead of SyncBN so it also runs in one CPU process).
_base_ = [
    '../../_base_/models/deeplabv3_mbv2.py',
    '../../_base_/datasets/demo_cityscapes.py',
    '../../_base_/default_runtime_seg.py',
    '../../_base_/schedules/schedule_demo_seg.py'
]
norm_cfg = dict(type='BN', requires_grad=True)
crop_size = (128, 128)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(norm_cfg=norm_cfg, init_cfg=None),
    decode_head=dict(channels=128, dilations=(1, 6, 12, 18),
                     norm_cfg=norm_cfg),
    auxiliary_head=dict(channels=64, norm_cfg=norm_cfg))
randomness = dict(seed=0)
