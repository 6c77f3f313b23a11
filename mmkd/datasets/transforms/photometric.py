import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmkd.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomGaussianBlur(BaseTransform):
    """Blur the image with probability ``prob`` by a Gaussian of standard
    deviation σ ~ U(``sigma``) pixels (the strong view of FixMatch-style
    segmentation: UniMatch, U2PL; PIL's ``GaussianBlur(radius=σ)`` there).
    Labels are untouched.  mmcv / mmseg have no blur transform."""

    def __init__(self, prob=0.5, sigma=(0.1, 2.0)):
        self.prob = prob
        self.sigma = sigma

    def transform(self, results):
        if np.random.rand() < self.prob:
            s = np.random.uniform(*self.sigma)
            results['img'] = cv2.GaussianBlur(results['img'], (0, 0), s)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(prob={self.prob}, sigma={self.sigma})'
