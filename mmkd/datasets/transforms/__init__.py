from .loading import LoadImageFromFile, LoadSegAnnotations
from .photometric import RandomGaussianBlur

__all__ = ['LoadImageFromFile', 'LoadSegAnnotations', 'RandomGaussianBlur']
