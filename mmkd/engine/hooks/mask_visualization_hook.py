import cv2
import numpy as np
import torch.nn.functional as F
from mmengine.hooks import Hook

from mmkd.registry import HOOKS
from mmkd.utils.unwrap import unwrap_model


def overlay_masks(image: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """A row: the image, then each mask (values in [0, 1], the image's size)
    as a heat map blended over it."""
    tiles = [image]
    for m in masks:
        heat = cv2.applyColorMap((m * 255).astype(np.uint8),
                                 cv2.COLORMAP_JET)
        tiles.append(cv2.addWeighted(image, 0.4, heat, 0.6, 0))
    return np.concatenate(tiles, axis=1)


@HOOKS.register_module()
class DistillMaskVisualizationHook(Hook):
    """Every ``interval`` training iterations, draw the spatial masks of each
    masking distillation loss (ACAM-KD's ASCM, MasKD's) over the batch's
    images -- one row per image: the image, then the M masks as heat maps --
    and hand them to the runner's visualizer as ``distill_masks_<loss>_img<b>``
    (``LocalVisBackend``: ``<log_dir>/vis_data/vis_image/…_<step>.png``;
    TensorBoard / W&B backends log them as images)."""
    priority = 'LOW'

    def __init__(self, interval=500, max_images=4):
        self.interval = interval
        self.max_images = max_images

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if not self.every_n_train_iters(runner, self.interval):
            return
        model = unwrap_model(runner.model)
        if runner.rank != 0:
            return
        for name, picture in self.pictures(model, data_batch).items():
            runner.visualizer.add_image(name, picture, step=runner.iter + 1)

    def pictures(self, model, data_batch) -> dict:
        """``{'distill_masks_<loss>_img<b>': RGB picture}`` of this batch."""
        inputs = data_batch['inputs']
        samples = data_batch['data_samples']
        out = {}
        for name, loss in getattr(model, 'distill_losses', {}).items():
            masks = getattr(loss, 'last_masks', None)
            if masks is None:
                continue
            for b in range(min(self.max_images, len(masks), len(inputs))):
                img = inputs[b].permute(1, 2, 0).cpu().numpy().astype(np.uint8)
                img = np.ascontiguousarray(img)  # BGR, as loaded
                h, w = img.shape[:2]
                pad_h, pad_w = samples[b].metainfo.get('batch_input_shape',
                                                       (h, w))
                m = F.interpolate(masks[b:b + 1].float(), (pad_h, pad_w),
                                  mode='bilinear', align_corners=False)[0]
                m = m[:, :h, :w].clamp(0, 1).cpu().numpy()
                out[f'distill_masks_{name}_img{b}'] = \
                    overlay_masks(img, m)[..., ::-1]  # BGR -> RGB
        return out
