# Supervised DeepLabV3-R18-D8 on 1/8 of the demo Cityscapes labels.
_base_ = './deeplabv3_r18_demo_cityscapes_full.py'
train_dataloader = dict(dataset=dict(ann_file='splits/1_8/labeled.txt'))
