from collections import defaultdict

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmkd.detection.pseudo_label_quality import (HiddenGroundTruth,
                                                 count_true_positives)
from mmkd.registry import HOOKS


@HOOKS.register_module()
class PseudoLabelStatsHook(Hook):
    """Log what the teacher's pseudo-labels look like every ``interval``
    iterations: boxes kept per image and class, their mean score and -- when
    the hidden ground truth of the unlabelled images is given
    (``gt_ann_file``, e.g. the demo split's ``…-unlabeled.gt.json``) -- their
    precision and recall at IoU ``iou_thr``.

    The model must expose ``record_pseudo_labels`` and
    ``pseudo_label_records`` (:class:`~mmkd.detection.SoftTeacher` does):
    records of ``img_id``, ``bboxes`` (original image coordinates),
    ``labels``, ``scores``.  Scalars go to the message hub as
    ``pseudo/…`` and appear in the log and ``scalars.json``.  In distributed
    runs each rank reports its own images.
    """
    priority = 'NORMAL'

    def __init__(self, interval=50, gt_ann_file=None, iou_thr=0.5):
        self.interval = interval
        self.gt_ann_file = gt_ann_file
        self.iou_thr = iou_thr
        self.gt = None

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train(self, runner):
        model = self._model(runner)
        if not hasattr(model, 'record_pseudo_labels'):
            raise TypeError(f'PseudoLabelStatsHook: {type(model).__name__} '
                            'does not record pseudo-labels')
        model.record_pseudo_labels = True
        self.classes = tuple(runner.train_dataloader.dataset.metainfo.get(
            'classes', ()))
        if self.gt_ann_file is not None:
            self.gt = HiddenGroundTruth(self.gt_ann_file, self.classes)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if not self.every_n_train_iters(runner, self.interval):
            return
        model = self._model(runner)
        records, model.pseudo_label_records = model.pseudo_label_records, []
        for key, value in self.summarise(records).items():
            runner.message_hub.update_scalar(f'train/pseudo/{key}', value)

    def summarise(self, records):
        n_img = max(len(records), 1)
        per_class = defaultdict(int)
        scores = []
        tp = n_pred = n_gt = 0
        for r in records:
            for label in r['labels'].tolist():
                per_class[label] += 1
            scores += r['scores'].tolist()
            if self.gt is not None and r['img_id'] in self.gt:
                gt_boxes, gt_labels = self.gt.get(r['img_id'])
                tp += count_true_positives(r['bboxes'], r['labels'],
                                           r['scores'], gt_boxes, gt_labels,
                                           self.iou_thr)
                n_pred += len(r['bboxes'])
                n_gt += len(gt_boxes)
        out = dict(boxes_per_img=sum(per_class.values()) / n_img,
                   mean_score=sum(scores) / len(scores) if scores else 0.0)
        for c, name in enumerate(self.classes):
            out[f'{name}_per_img'] = per_class[c] / n_img
        if self.gt is not None:
            out['precision'] = tp / n_pred if n_pred else 0.0
            out['recall'] = tp / n_gt if n_gt else 0.0
        return out
