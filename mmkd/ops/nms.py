"""NMS with a vectorised CPU kernel whose results are mmcv's, for configs.

mmcv 2.1's CPU NMS visits the later boxes through the score order and
branches on each one, so the compiler cannot vectorise it; it was 17-25 %
of a demo Faster R-CNN training step (the RPN's proposals; ``tools/
profile_step.py --ops``). ``csrc/nms_cpu.cpp`` decides every pair by the
same float expressions over boxes copied into score order, vectorised (the
extension ``mmkd._nms_ext``, built with the RoIAlign one).

mmdet's heads call mmcv's ``batched_nms``, which takes its NMS by name
(``nms=dict(type='nms', ...)``) and evaluates the name in
``mmcv.ops.nms`` -- there is no registry to add to -- so importing this
module adds ``mmkd_nms`` there: ``nms=dict(type='mmkd_nms',
iou_threshold=0.7)`` selects it in a config, and everything else in mmcv
stays as it is. CUDA tensors, float64 and numpy arrays go to mmcv's
``nms``. Half-precision CPU tensors (what ``torch.autocast('cpu', ...)``
gives, the CPU stand-in of ``--amp``) are decided in float32 and returned in
their own type, as mmcv's CUDA kernel takes half boxes; mmcv's CPU kernel
would refuse them.
"""
import importlib
import warnings

import torch
from mmcv.ops import nms as mmcv_nms

try:
    from mmkd import _nms_ext
except ImportError:  # not built: mmcv's kernel, same results, slower
    _nms_ext = None

HALF_TYPES = (torch.float16, torch.bfloat16)


def nms(boxes, scores, iou_threshold, offset=0, score_threshold=0,
        max_num=-1):
    """mmcv's ``nms`` (same arguments, same ``(dets, inds)``), float32 CPU
    tensors on mmkd's kernel."""
    tensors = isinstance(boxes, torch.Tensor) and \
        isinstance(scores, torch.Tensor)
    if tensors and boxes.device.type == 'cpu' and \
            boxes.dtype in HALF_TYPES:
        dets, inds = nms(boxes.float(), scores.float(), iou_threshold,
                         offset, score_threshold, max_num)
        return dets.to(boxes.dtype), inds
    if not (tensors and boxes.device.type == scores.device.type == 'cpu'
            and boxes.dtype == scores.dtype == torch.float32):
        return mmcv_nms(boxes, scores, iou_threshold, offset, score_threshold,
                        max_num)
    if _nms_ext is None:
        # shown once: Python's warning filters skip repeats of a line
        warnings.warn(
            'mmkd._nms_ext is not built (`make setup` or `python setup.py '
            "build_ext --inplace` builds it): NMS runs on mmcv's CPU kernel "
            '— the same results, slower')
        return mmcv_nms(boxes, scores, iou_threshold, offset, score_threshold,
                        max_num)
    if boxes.dim() != 2 or boxes.size(1) != 4 or \
            scores.shape != boxes.shape[:1]:
        raise ValueError(f'nms: boxes must be (N, 4) and scores (N,), got '
                         f'{tuple(boxes.shape)} and {tuple(scores.shape)}')
    if offset not in (0, 1):
        raise ValueError(f'nms: offset must be 0 or 1, got {offset}')
    # as mmcv's NMSop: filter by score, run, keep the first max_num
    valid = None
    if score_threshold > 0:
        valid = torch.nonzero(scores > score_threshold).squeeze(1)
        boxes, scores = boxes[valid], scores[valid]
    inds = _nms_ext.nms(boxes.detach(), scores.detach(),
                        float(iou_threshold), int(offset))
    if max_num > 0:
        inds = inds[:max_num]
    dets = torch.cat((boxes[inds], scores[inds].reshape(-1, 1)), dim=1)
    if valid is not None:
        inds = valid[inds]
    return dets, inds


# the name batched_nms(..., nms_cfg=dict(type='mmkd_nms')) evaluates (in
# the module: ``mmcv.ops.nms`` as an attribute is mmcv's function)
importlib.import_module('mmcv.ops.nms').mmkd_nms = nms
