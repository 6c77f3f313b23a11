from .datasets import CBCTDataset
from .losses import masked_cross_entropy, masked_mean, soft_dice_loss
from .mean_teacher import VolumeMeanTeacher
from .metrics import VolumeSegMetric
from .prediction_hook import VolumePredictionHook
from .rail import RAIL
from .resvnet import ResVNet
from .segmentor import VolumeSegmentor, remove_small_components
from .transforms import LoadNiftiVolume, MonaiCompose, PackVolumeInputs
from .vnet import VNet

__all__ = [
    'CBCTDataset', 'masked_cross_entropy', 'masked_mean', 'soft_dice_loss',
    'VolumeSegMetric', 'VolumeSegmentor',
    'remove_small_components', 'LoadNiftiVolume', 'MonaiCompose',
    'PackVolumeInputs', 'RAIL', 'ResVNet', 'VNet', 'VolumeMeanTeacher',
    'VolumePredictionHook'
]
