"""mmkd: semi-supervised detection and segmentation with knowledge
distillation, on OpenMMLab (mmengine, mmcv, mmdet 3.x, mmsegmentation 1.x)."""
from .version import __version__

__all__ = ['__version__']
