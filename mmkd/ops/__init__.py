"""Operators mmkd builds itself: what mmcv's CPU kernels get wrong for
speed, with results bit-identical to mmcv's (so a config may switch
between the two without changing a number)."""
from .nms import nms
from .roi_align import RoIAlign, roi_align_cpu

# the RoI layers mmkd's SingleRoIExtractor takes from here, by config name
ROI_LAYERS = dict(RoIAlign=RoIAlign)

__all__ = ['RoIAlign', 'roi_align_cpu', 'ROI_LAYERS', 'nms']
