from .datasets import CBCTDataset
from .mean_teacher import VolumeMeanTeacher
from .metrics import VolumeSegMetric
from .prediction_hook import VolumePredictionHook
from .rail import RAIL
from .rail_losses import masked_mean
from .resvnet import ResVNet
from .segmentor import VolumeSegmentor, remove_small_components
from .transforms import LoadNiftiVolume, MonaiCompose, PackVolumeInputs
from .vnet import VNet

__all__ = [
    'CBCTDataset', 'masked_mean', 'VolumeSegMetric', 'VolumeSegmentor',
    'remove_small_components', 'LoadNiftiVolume', 'MonaiCompose',
    'PackVolumeInputs', 'RAIL', 'ResVNet', 'VNet', 'VolumeMeanTeacher',
    'VolumePredictionHook'
]
