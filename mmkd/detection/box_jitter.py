"""Box jittering for the regression uncertainty of Soft Teacher (Xu et al.,
"End-to-End Semi-Supervised Object Detection with Soft Teacher", ICCV 2021,
§3.3): a pseudo box whose refinements by the teacher scatter widely is an
unreliable regression target."""
import torch
from torch import Tensor


def _whwh(boxes: Tensor) -> Tensor:
    """``[w, h, w, h]`` of ``(N, 4)`` xyxy boxes, at least 1 pixel."""
    wh = (boxes[:, 2:4] - boxes[:, 0:2]).clamp(min=1.0)
    return wh.repeat(1, 2)


def jitter_boxes(boxes: Tensor, times: int, scale: float,
                 generator: torch.Generator = None) -> Tensor:
    """``times`` jittered copies ``b + N(0, (scale·[w, h, w, h])²)`` of each
    box: ``(N, 4)`` -> ``(times, N, 4)``."""
    noise = torch.randn((times, *boxes.shape), generator=generator,
                        device=boxes.device, dtype=boxes.dtype)
    return boxes[None] + noise * (scale * _whwh(boxes))[None]


def jitter_uncertainty(refined: Tensor) -> Tensor:
    """Regression uncertainty from the refined jittered boxes
    ``(times, N, 4)``: the mean over the 4 coordinates of
    ``std(refined) / [w, h, w, h]``, with ``w, h`` those of the mean refined
    box (as the paper's code).  Returns ``(N,)``."""
    if refined.shape[1] == 0:
        return refined.new_zeros(0)
    std = refined.std(dim=0)
    return (std / _whwh(refined.mean(dim=0))).mean(dim=-1)
