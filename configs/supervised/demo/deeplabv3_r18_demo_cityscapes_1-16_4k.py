# Supervised DeepLabV3-R18(w/2)-D8 on 1/16 of the demo Cityscapes labels
# (20 images), 4000 iterations: the label-hungry budget; the mean teachers
# of the segmentation table start from its last checkpoint.
_base_ = './deeplabv3_r18_demo_cityscapes_full_4k.py'
train_dataloader = dict(dataset=dict(ann_file='splits/1_16/labeled.txt'))
