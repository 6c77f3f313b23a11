"""mmdet's ``SingleRoIExtractor`` with mmkd's RoI operators."""
from mmdet.models.roi_heads.roi_extractors import (
    SingleRoIExtractor as MMDetSingleRoIExtractor,
)

from mmkd.ops import ROI_LAYERS
from mmkd.registry import MODELS


@MODELS.register_module()
class SingleRoIExtractor(MMDetSingleRoIExtractor):
    """mmdet's ``SingleRoIExtractor``; a ``roi_layer`` type that mmkd
    implements (``mmkd.ops.ROI_LAYERS``: ``RoIAlign``) is built from there,
    anything else from ``mmcv.ops`` as in mmdet.

    mmkd's ``RoIAlign`` gives mmcv's results to the bit on multiple CPU
    threads (``mmkd/ops/roi_align.py``), so a detection config with
    ``default_scope = 'mmkd'`` gets it without changing a number;
    ``type='mmdet.SingleRoIExtractor'`` keeps mmcv's kernel (the mmdet
    comparison configs do, to time mmdet as it ships).
    """

    def build_roi_layers(self, layer_cfg, featmap_strides):
        layer_cfg = layer_cfg.copy()
        layer_cfg['type'] = ROI_LAYERS.get(layer_cfg['type'],
                                           layer_cfg['type'])
        return super().build_roi_layers(layer_cfg, featmap_strides)
