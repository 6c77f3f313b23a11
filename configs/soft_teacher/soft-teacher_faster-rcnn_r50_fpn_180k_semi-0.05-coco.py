# Soft Teacher on COCO 5 % labelled (fold 1); otherwise soft_teacher_coco.py.
# Published (5-fold mean): supervised 20.92 -> 30.74 mAP.
_base_ = './soft-teacher_faster-rcnn_r50_fpn_180k_semi-0.1-coco.py'
train_dataloader = dict(
    dataset=dict(
        labeled=dict(
            ann_file='annotations/semi_anns/instances_train2017.1@5.json'),
        unlabeled=dict(ann_file='annotations/semi_anns/'
                       'instances_train2017.1@5-unlabeled.json')))
