# Supervised DeepLabV3-MobileNetV2 on Cityscapes, 512x1024 crops, 4 GPUs x 2
# images, 40k iterations (the student of the ACAM-KD segmentation protocol).
_base_ = [
    '../_base_/models/deeplabv3_mbv2.py', '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime_seg.py', '../_base_/schedules/schedule_40k.py'
]
crop_size = (512, 1024)
model = dict(data_preprocessor=dict(size=crop_size))
