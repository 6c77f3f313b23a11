# Supervised Mask R-CNN on 10 % of the demo COCO (fold 1): the baseline of
# the semi-supervised instance segmentation table.
_base_ = './mask_rcnn_r18_demo_coco_full.py'
train_dataloader = dict(
    dataset=dict(ann_file='annotations/semi_anns/instances_train2017.1@10.json'))
