from .acam_kd import ACAMKDLoss, STCAFusion
from .cwd import ChannelWiseDivergence
from .feature_mse import FeatureMSELoss
from .maskd import MasKDLoss
from .masked_feature import dice_diversity, masked_mse

__all__ = [
    'ACAMKDLoss', 'STCAFusion', 'ChannelWiseDivergence', 'FeatureMSELoss',
    'MasKDLoss', 'dice_diversity', 'masked_mse'
]
