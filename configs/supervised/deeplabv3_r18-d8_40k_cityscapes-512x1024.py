# Supervised DeepLabV3-R18-D8 on Cityscapes, 512x1024, 4 GPUs x 2, 40k.
_base_ = [
    '../_base_/models/deeplabv3_r18_d8.py', '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime_seg.py', '../_base_/schedules/schedule_40k.py'
]
crop_size = (512, 1024)
model = dict(data_preprocessor=dict(size=crop_size))
