# Soft Teacher with dynamic dual-threshold pseudo-labels (after HSSDA) on the
# demo COCO 10 %: the demo Soft Teacher config with its fixed 0.7 / 0.7
# thresholds replaced by per-class τ_high / τ_low, recomputed every 50
# iterations by 2-means on the teacher's last 2000 scores of each class
# (0.9 / 0.5 until a class has 50). Boxes ≥ τ_high: RPN and RoI targets,
# weight 1; τ_low ≤ score < τ_high: RoI targets weighted by their score;
# below τ_low: ignore regions (background RoIs inside one get no loss).
# The scores are HSSDA's: the teacher's boxes on the labelled batch that
# match its ground truth. Chosen on seed 0 (README): teacher / student
# 0.401 / 0.405 mAP with them, 0.391 / 0.381 with the scores of the
# teacher's boxes on the unlabelled batch (threshold_scores='unlabelled':
# τ_low fell to ~0.14, 10 pseudo boxes per image at precision 0.23).
_base_ = ('../../soft_teacher/demo/soft_teacher_faster_rcnn_r18_demo_coco_'
          '10p.py')
model = dict(
    pseudo_labeller=dict(
        _delete_=True,
        type='DynamicDualThreshold',
        num_classes=4,
        update_interval=50,
        buffer_size=2000,
        min_samples=50,
        default_high=0.9,
        default_low=0.5),
    # the labeller's tiers decide; no second threshold on top
    rpn_pseudo_thr=0.0,
    cls_pseudo_thr=0.0,
    record_score_thr=0.0,
    threshold_scores='labelled')
custom_hooks = [
    dict(type='EMATeacherHook', momentum=0.01, buffers='skip'),
    dict(type='PseudoLabelStatsHook', interval=50,
         gt_ann_file='data/coco_demo/annotations/semi_anns/'
         'instances_train2017.1@10-unlabeled.gt.json',
         image_interval=250),
    dict(type='PseudoThresholdHook', interval=50),
    dict(type='RNGStateHook'),
]
