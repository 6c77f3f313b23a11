from mmengine.hooks import Hook

from mmkd.registry import HOOKS
from mmkd.utils.unwrap import unwrap_model


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

    Pictures: every ``image_interval`` iterations (0: never) the model keeps
    that step's teacher-view images and targets, draws the pseudo-labels
    over the first ``num_images`` (``render_pseudo_labels``: boxes for
    detection, a colour mask with ignored pixels black for segmentation)
    and the hook hands them to the runner's visualizer as
    ``pseudo_labels_<k>`` at that step (rank 0): every backend of the
    config's ``visualizer.vis_backends`` gets them -- ``LocalVisBackend``
    writes ``<log_dir>/vis_data/vis_image/pseudo_labels_<k>_<step>.png``,
    ``TensorboardVisBackend`` / ``WandbVisBackend`` log them as images.
    """
    priority = 'NORMAL'

    def __init__(self, interval=50, gt_ann_file=None, image_interval=0,
                 num_images=4):
        self.interval = interval
        self.gt_ann_file = gt_ann_file
        self.image_interval = image_interval
        self.num_images = num_images

    @staticmethod
    def _model(runner):
        model = runner.model
        return unwrap_model(model)

    def before_train(self, runner):
        model = self._model(runner)
        if not hasattr(model, 'summarise_pseudo_labels'):
            raise TypeError(f'PseudoLabelStatsHook: {type(model).__name__} '
                            'is not a teacher-student model')
        metainfo = runner.train_dataloader.dataset.metainfo
        model.setup_pseudo_label_statistics(
            tuple(metainfo.get('classes', ())), self.gt_ann_file,
            palette=metainfo.get('palette'))
        model.record_pseudo_labels = True

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.image_interval and \
                self.every_n_train_iters(runner, self.image_interval):
            self._model(runner).keep_pseudo_label_batch = True

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = self._model(runner)
        if model.kept_pseudo_label_batch is not None:
            inputs, targets = model.kept_pseudo_label_batch
            model.kept_pseudo_label_batch = None
            if runner.rank == 0:
                self.save_pictures(runner, model, inputs, targets)
        if not self.every_n_train_iters(runner, self.interval):
            return
        records, model.pseudo_label_records = model.pseudo_label_records, []
        for key, value in model.summarise_pseudo_labels(records).items():
            runner.message_hub.update_scalar(f'train/pseudo/{key}', value)

    def save_pictures(self, runner, model, inputs, targets):
        n = self.num_images
        images = model.display_images(inputs[:n])
        for k, picture in enumerate(
                model.render_pseudo_labels(images, targets[:n])):
            runner.visualizer.add_image(f'pseudo_labels_{k}', picture,
                                        step=runner.iter + 1)
