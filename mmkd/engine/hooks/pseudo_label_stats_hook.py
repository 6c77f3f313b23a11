from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmkd.registry import HOOKS


@HOOKS.register_module()
class PseudoLabelStatsHook(Hook):
    """Log what the teachers' pseudo-labels look like every ``interval``
    iterations, for any teacher-student model.

    The hook knows no task: it asks the model to record its targets
    (``record_pseudo_labels = True``; the core's loss template appends
    ``pseudo_label_records_of(targets)`` every step), to set up its
    statistics (``setup_pseudo_label_statistics(classes, gt_ann_file)``)
    and to summarise the records of the last ``interval`` steps
    (``summarise_pseudo_labels``).  For detection that is boxes per image
    and class, their mean score and -- given the hidden ground truth of the
    unlabelled images (``gt_ann_file``, e.g. the demo split's
    ``…-unlabeled.gt.json``) -- precision and recall.  Scalars go to the
    message hub as ``train/pseudo/…`` and appear in the log and
    ``scalars.json``.  In distributed runs each rank reports its own images.
    """
    priority = 'NORMAL'

    def __init__(self, interval=50, gt_ann_file=None):
        self.interval = interval
        self.gt_ann_file = gt_ann_file

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train(self, runner):
        model = self._model(runner)
        if not hasattr(model, 'summarise_pseudo_labels'):
            raise TypeError(f'PseudoLabelStatsHook: {type(model).__name__} '
                            'is not a teacher-student model')
        classes = runner.train_dataloader.dataset.metainfo.get('classes', ())
        model.setup_pseudo_label_statistics(tuple(classes), self.gt_ann_file)
        model.record_pseudo_labels = True

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if not self.every_n_train_iters(runner, self.interval):
            return
        model = self._model(runner)
        records, model.pseudo_label_records = model.pseudo_label_records, []
        for key, value in model.summarise_pseudo_labels(records).items():
            runner.message_hub.update_scalar(f'train/pseudo/{key}', value)
