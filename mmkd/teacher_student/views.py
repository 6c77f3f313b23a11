"""Moving targets between views of one image, in torch.

Every view records how it was made from the original image as a 3×3
homography of *box* coordinates (pixel ``i`` spans ``[i, i+1)``), as mmdet's
transforms do in ``homography_matrix``: ``view = H · original``.  The matrix
from view ``a`` to view ``b`` is then ``H_b · H_a⁻¹``.  Boxes move by their
corners (:func:`project_boxes`); masks, label maps and probability maps by
nearest-neighbour resampling of pixel centres (:func:`warp_maps`); a mix of
images and their targets (:func:`cut_mix`) is drawn once and applied to both.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor


def view_to_view(src_homography, dst_homography) -> np.ndarray:
    """``H_dst · H_src⁻¹`` (float64): source-view to destination-view
    coordinates."""
    return (np.asarray(dst_homography, np.float64)
            @ np.linalg.inv(np.asarray(src_homography, np.float64)))


def project_boxes(boxes: Tensor, matrix, out_shape=None) -> Tensor:
    """Boxes ``(N, 4)`` xyxy through ``matrix``: the box around the four
    projected corners, clipped to ``out_shape`` ``(h, w)`` when given --
    mmdet's ``bbox_project``, in float32 outside autocast and returned in
    float32: under ``--amp`` the matrix product would run in float16, whose
    step is 1 px between 1024 and 2048 px (bfloat16: 8 px)."""
    from mmdet.structures.bbox import bbox_project  # boxes only: lazily
    with torch.autocast(boxes.device.type, enabled=False):
        matrix = torch.as_tensor(np.asarray(matrix), dtype=torch.float32,
                                 device=boxes.device)
        return bbox_project(boxes.float(), matrix, out_shape)


def warp_maps(maps: Tensor, matrix, out_hw: Sequence[int],
              fill=0) -> Tensor:
    """Resample ``(..., H, W)`` maps (masks, label maps, probabilities) into
    a view of size ``out_hw`` through ``matrix`` (source to destination box
    coordinates): each destination pixel takes the source pixel that holds
    its centre, ``fill`` where that falls outside the source."""
    h, w = int(out_hw[0]), int(out_hw[1])
    src_h, src_w = maps.shape[-2:]
    inv = torch.as_tensor(np.linalg.inv(np.asarray(matrix, np.float64)),
                          device=maps.device)
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=torch.float64, device=maps.device) + 0.5,
        torch.arange(w, dtype=torch.float64, device=maps.device) + 0.5,
        indexing='ij')
    pts = torch.stack([xs.reshape(-1), ys.reshape(-1), torch.ones_like(
        xs.reshape(-1))])
    src = inv @ pts
    sx = torch.floor(src[0] / src[2]).long()
    sy = torch.floor(src[1] / src[2]).long()
    inside = (sx >= 0) & (sx < src_w) & (sy >= 0) & (sy < src_h)
    out = maps.new_full((*maps.shape[:-2], h * w), fill)
    out[..., inside] = maps[..., sy[inside], sx[inside]]
    return out.reshape(*maps.shape[:-2], h, w)


def cut_mix(inputs: Tensor, *maps: Tensor, ratio=(0.25, 0.5),
            generator: Optional[torch.Generator] = None
            ) -> Tuple[Tensor, ...]:
    """CutMix (Yun et al., 2019) between the images of a batch, as the
    strong view of semi-supervised segmentation (French et al., 2020;
    UniMatch): image ``i`` receives, in one random box, the content of image
    ``π(i)`` (a random derangement), and every per-pixel map in ``maps``
    (pseudo-labels, weights; ``(N, ..., H, W)``) is mixed with the same
    boxes.  The box's side is a fraction drawn from ``ratio`` of the image's.

    Returns the mixed inputs followed by the mixed maps.
    """
    n, _, h, w = inputs.shape
    if n < 2:
        return (inputs, *maps)
    partner = (torch.arange(n) + torch.randint(
        1, n, (1, ), generator=generator)) % n
    mask = torch.zeros(n, h, w, dtype=torch.bool)
    frac = torch.empty(n, 2).uniform_(*ratio, generator=generator)
    pos = torch.rand(n, 2, generator=generator)
    for i in range(n):
        bh, bw = int(frac[i, 0] * h), int(frac[i, 1] * w)
        y0, x0 = int(pos[i, 0] * (h - bh)), int(pos[i, 1] * (w - bw))
        mask[i, y0:y0 + bh, x0:x0 + bw] = True
    mask = mask.to(inputs.device)

    def mix(x):
        m = mask.view(n, *([1] * (x.dim() - 3)), h, w)
        return torch.where(m, x[partner.to(x.device)], x)

    return (mix(inputs), *(mix(m) for m in maps))
