"""Texture helpers shared by the demo generators."""
import cv2
import numpy as np


def smooth_noise(rng, h, w, scale, channels=1):
    """Low-frequency noise in [0, 1] (bilinear upsampling of a coarse grid)."""
    gh, gw = max(2, h // scale), max(2, w // scale)
    coarse = rng.random((gh, gw, channels)).astype(np.float32)
    out = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(out.reshape(h, w, channels), 0, 1)


def textured_background(rng, h, w):
    base = rng.uniform(40, 200, size=3)
    tex = smooth_noise(rng, h, w, int(rng.integers(8, 40)), 3)
    img = base + (tex - 0.5) * rng.uniform(40, 120)
    if rng.random() < 0.5:  # stripes / grid
        period = rng.uniform(6, 20)
        angle = rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:h, 0:w]
        s = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) / period * 2 *
                   np.pi)
        img += s[..., None] * rng.uniform(5, 15)
    img += rng.normal(0, 6, size=img.shape)
    return img


def fill_pattern(rng, h, w, colour):
    """Object fill: solid, striped, or speckled, around ``colour``."""
    kind = rng.integers(3)
    fill = np.ones((h, w, 3), np.float32) * colour
    if kind == 1:
        period = rng.uniform(3, 8)
        yy, xx = np.mgrid[0:h, 0:w]
        fill += (np.sin((xx + yy) / period * np.pi)[..., None] *
                 rng.uniform(15, 40))
    elif kind == 2:
        fill += rng.normal(0, rng.uniform(10, 30), size=(h, w, 3))
    return fill
