from .semi_segmentor import SemiSegmentor, weighted_pixel_ce

__all__ = ['SemiSegmentor', 'weighted_pixel_ce']
