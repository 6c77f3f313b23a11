# Supervised DeepLabV3-R18-D8 (half width: base 32) on all demo Cityscapes
# labels, from scratch.
_base_ = [
    '../../_base_/models/deeplabv3_r18_d8.py',
    '../../_base_/datasets/demo_cityscapes.py',
    '../../_base_/default_runtime_seg.py',
    '../../_base_/schedules/schedule_demo_seg.py'
]
norm_cfg = dict(type='BN', requires_grad=True)
crop_size = (128, 128)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(stem_channels=32, base_channels=32, norm_cfg=norm_cfg,
                  init_cfg=None),
    decode_head=dict(in_channels=256, channels=64, dilations=(1, 6, 12, 18),
                     norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=128, channels=32, norm_cfg=norm_cfg))
randomness = dict(seed=0)
