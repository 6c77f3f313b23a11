# Soft Teacher on COCO 1 % labelled (fold 1); otherwise soft_teacher_coco.py.
# Published (5-fold mean): supervised 10.0 -> 20.46 mAP.
_base_ = './soft-teacher_faster-rcnn_r50_fpn_180k_semi-0.1-coco.py'
train_dataloader = dict(
    dataset=dict(
        labeled=dict(
            ann_file='annotations/semi_anns/instances_train2017.1@1.json'),
        unlabeled=dict(ann_file='annotations/semi_anns/'
                       'instances_train2017.1@1-unlabeled.json')))
