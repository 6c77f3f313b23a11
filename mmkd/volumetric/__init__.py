from .datasets import CBCTDataset
from .metrics import VolumeDiceMetric
from .segmentor import VolumeSegmentor, remove_small_components
from .transforms import LoadNiftiVolume, MonaiCompose, PackVolumeInputs
from .vnet import VNet

__all__ = [
    'CBCTDataset', 'VolumeDiceMetric', 'VolumeSegmentor',
    'remove_small_components', 'LoadNiftiVolume', 'MonaiCompose',
    'PackVolumeInputs', 'VNet'
]
