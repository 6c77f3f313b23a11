from typing import List

import numpy as np
import torch
from mmengine.hooks import Hook

from mmkd.registry import HOOKS, TASK_UTILS
from mmkd.utils.unwrap import unwrap_model


def display_images(data_preprocessor, inputs) -> List[np.ndarray]:
    """The batch ``inputs`` as RGB ``uint8`` images: the data
    preprocessor's normalisation (and BGR order) undone."""
    pre = getattr(data_preprocessor, 'data_preprocessor',
                  data_preprocessor)  # a multi-branch wrapper's
    x = inputs.detach().float()
    if getattr(pre, '_enable_normalize', False):
        x = x * pre.std.to(x) + pre.mean.to(x)
    rgb = getattr(pre, '_channel_conversion',
                  getattr(pre, 'channel_conversion', False))
    if not rgb and x.shape[1] == 3:  # loaded as BGR, never converted
        x = x.flip(1)
    x = x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
    return [np.ascontiguousarray(i) for i in x.cpu().numpy()]


@HOOKS.register_module()
class PseudoLabelStatsHook(Hook):
    """Log what the teachers' pseudo-labels look like every ``interval``
    iterations, for any teacher-student model.

    The hook knows no task: it builds the statistics the model names
    (``model.pseudo_label_statistics()``, e.g.
    :class:`~mmkd.detection.BoxPseudoLabelStatistics`,
    :class:`~mmkd.segmentation.MapPseudoLabelStatistics`) with the data
    set's classes and palette, asks the model to leave each step's
    teacher-view images and targets in ``last_pseudo_labels``, keeps their
    ``records_of`` and logs their ``summarise`` every ``interval`` steps.
    For detection that is boxes per image and class, their mean score and
    -- given the hidden ground truth of the unlabelled images
    (``gt_ann_file``, e.g. the demo split's ``…-unlabeled.gt.json``) --
    precision and recall; for segmentation the coverage and accuracy per
    class.  Scalars go to the message hub as ``train/pseudo/…`` and appear
    in the log and ``scalars.json``.  In distributed runs each rank reports
    its own images.

    Pictures: every ``image_interval`` iterations (0: never) the pseudo-
    labels of that step's first ``num_images`` images are drawn (``draw``:
    boxes for detection, a colour mask with ignored pixels black for
    segmentation) and handed to the runner's visualizer as
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
        self.statistics = None
        self.records = []

    def before_train(self, runner):
        model = unwrap_model(runner.model)
        if not hasattr(model, 'pseudo_label_statistics'):
            raise TypeError(f'PseudoLabelStatsHook: {type(model).__name__} '
                            'is not a teacher-student model')
        metainfo = runner.train_dataloader.dataset.metainfo
        cfg = dict(model.pseudo_label_statistics(),
                   classes=tuple(metainfo.get('classes', ())),
                   palette=metainfo.get('palette'))
        if self.gt_ann_file is not None:
            cfg['gt_ann_file'] = self.gt_ann_file
        self.statistics = TASK_UTILS.build(cfg)
        model.keep_pseudo_labels = True

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = unwrap_model(runner.model)
        if model.last_pseudo_labels is not None:
            inputs, targets = model.last_pseudo_labels
            model.last_pseudo_labels = None
            self.records += self.statistics.records_of(targets)
            if runner.rank == 0 and self.image_interval and \
                    self.every_n_train_iters(runner, self.image_interval):
                self.save_pictures(runner, model, inputs, targets)
        if not self.every_n_train_iters(runner, self.interval):
            return
        records, self.records = self.records, []
        for key, value in self.statistics.summarise(records).items():
            runner.message_hub.update_scalar(f'train/pseudo/{key}', value)

    def save_pictures(self, runner, model, inputs, targets):
        n = self.num_images
        images = display_images(model.data_preprocessor, inputs[:n])
        for k, picture in enumerate(self.statistics.draw(images,
                                                         targets[:n])):
            runner.visualizer.add_image(f'pseudo_labels_{k}', picture,
                                        step=runner.iter + 1)
