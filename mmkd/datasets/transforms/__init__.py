from .loading import LoadImageFromFile, LoadSegAnnotations

__all__ = ['LoadImageFromFile', 'LoadSegAnnotations']
