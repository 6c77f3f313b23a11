import numpy as np
import torch
from mmengine.hooks import Hook

from mmkd.registry import HOOKS
from mmkd.utils.unwrap import unwrap_model


@HOOKS.register_module()
class PseudoThresholdHook(Hook):
    """Log an adaptive pseudo-labeller's per-class thresholds and draw them.

    Every ``interval`` iterations the thresholds of the model's
    ``pseudo_labeller`` (``tau_high`` / ``tau_low``, one per class, e.g.
    :class:`~mmkd.teacher_student.pseudo_label.DynamicDualThreshold`) go to
    the message hub as ``train/thr/<class>_high`` and ``…_low`` (the log,
    ``scalars.json`` and every visualizer backend's scalars: TensorBoard
    draws the curves) and into a history that is drawn, at every checkpoint
    and at the end, as the visualizer image ``pseudo_thresholds``: one
    panel per class, both curves over the iterations (``LocalVisBackend``:
    ``<log_dir>/vis_data/vis_image/pseudo_thresholds_<step>.png``). The
    history travels in the checkpoint (``--resume`` draws the whole run).
    """
    priority = 'NORMAL'  # before the LoggerHook writes the iteration

    def __init__(self, interval=50):
        self.interval = interval
        self.history = []  # (iteration, [high per class], [low per class])
        self.classes = ()

    @staticmethod
    def _labeller(runner):
        model = runner.model
        model = unwrap_model(model)
        return getattr(model, 'pseudo_labeller', None)

    def before_train(self, runner):
        labeller = self._labeller(runner)
        if not hasattr(labeller, 'tau_high'):
            raise TypeError(
                'PseudoThresholdHook: the model has no adaptive pseudo-'
                f'labeller with per-class thresholds (got '
                f'{type(labeller).__name__})')
        classes = tuple(runner.train_dataloader.dataset.metainfo.get(
            'classes', ()))
        n = len(labeller.tau_high)
        self.classes = classes if len(classes) == n else tuple(
            str(c) for c in range(n))

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if not self.every_n_train_iters(runner, self.interval):
            return
        labeller = self._labeller(runner)
        # one device-to-host transfer for both thresholds of every class
        high, low = torch.stack([labeller.tau_high,
                                 labeller.tau_low]).tolist()
        self.history.append((runner.iter + 1, high, low))
        for name, h, lo in zip(self.classes, high, low):
            runner.message_hub.update_scalar(f'train/thr/{name}_high', h)
            runner.message_hub.update_scalar(f'train/thr/{name}_low', lo)

    def before_save_checkpoint(self, runner, checkpoint):
        checkpoint['pseudo_threshold_history'] = list(self.history)
        self.add_picture(runner)

    def after_load_checkpoint(self, runner, checkpoint):
        self.history = list(checkpoint.get('pseudo_threshold_history', []))

    def after_train(self, runner):
        self.add_picture(runner)

    def add_picture(self, runner):
        picture = self.draw()
        if picture is not None and runner.rank == 0:
            runner.visualizer.add_image('pseudo_thresholds', picture,
                                        step=runner.iter)

    def draw(self):
        """One panel per class: ``τ_high`` and ``τ_low`` over iterations,
        as an RGB array (None before the first record)."""
        if not self.history:
            return None
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        iters = [h[0] for h in self.history]
        n = len(self.classes)
        cols = min(n, 5)
        rows = (n + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.2 * rows),
                                 squeeze=False, sharex=True, sharey=True)
        for c, name in enumerate(self.classes):
            ax = axes[c // cols][c % cols]
            ax.plot(iters, [h[1][c] for h in self.history], label='τ_high')
            ax.plot(iters, [h[2][c] for h in self.history], label='τ_low')
            ax.set_title(name, fontsize=9)
            ax.set_ylim(0, 1)
        for k in range(n, rows * cols):
            axes[k // cols][k % cols].axis('off')
        axes[0][0].legend(fontsize=7)
        fig.supxlabel('iteration')
        fig.tight_layout()
        fig.set_dpi(80)
        fig.canvas.draw()
        picture = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
        plt.close(fig)
        return picture
