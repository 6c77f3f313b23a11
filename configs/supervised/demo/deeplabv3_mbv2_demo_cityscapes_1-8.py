# Supervised DeepLabV3-MobileNetV2 on 1/8 of the demo Cityscapes labels.
_base_ = './deeplabv3_mbv2_demo_cityscapes_full.py'
train_dataloader = dict(dataset=dict(ann_file='splits/1_8/labeled.txt'))
