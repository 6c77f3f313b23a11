"""RoIAlign with a multi-threaded CPU kernel, bit-identical to mmcv's.

mmcv 2.1's CPU RoIAlign runs on one thread (its source leaves the OpenMP
pragma commented out) and its backward pass recomputes every sampling
point's bilinear weights once per channel. On the 2-core demo machine the
two passes were 40 % of a Soft Teacher step
(``tools/analysis_tools/profile_step.py
--ops``). ``csrc/roi_align_cpu.cpp`` does the same arithmetic in the same
order, spread over the RoIs (forward) and the channels (backward), with the
weights computed once per RoI; the extension (``mmkd._roi_align_ext``) is
built by ``tools/setup_env.sh`` (``setup.py build_ext --inplace``).
Everything else — CUDA tensors, max pooling, half precision,
``use_torchvision`` — goes to mmcv's implementation.
"""
import warnings

import torch
from mmcv.ops import RoIAlign as MMCVRoIAlign
from torch.autograd import Function
from torch.autograd.function import once_differentiable

try:
    from mmkd import _roi_align_ext
except ImportError:  # not built: mmcv's kernel, same numbers, slower
    _roi_align_ext = None


class RoIAlignCPUFunction(Function):
    """Average-pooling RoIAlign of float32 CPU tensors (mmcv's arguments)."""

    @staticmethod
    def forward(ctx, input, rois, output_size, spatial_scale, sampling_ratio,
                aligned):
        ctx.save_for_backward(rois)
        ctx.input_shape = tuple(input.shape)
        ctx.args = (spatial_scale, sampling_ratio, aligned)
        return _roi_align_ext.roi_align_forward(input, rois, *output_size,
                                                spatial_scale, sampling_ratio,
                                                aligned)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        grad_input = None
        if ctx.needs_input_grad[0]:
            rois, = ctx.saved_tensors
            grad_input = _roi_align_ext.roi_align_backward(
                grad_output, rois, *ctx.input_shape, *ctx.args)
        return grad_input, None, None, None, None, None


def roi_align_cpu(input, rois, output_size, spatial_scale=1.0,
                  sampling_ratio=0, aligned=True):
    """mmcv's ``roi_align(..., pool_mode='avg')`` on float32 CPU tensors,
    computed by mmkd's kernel."""
    return RoIAlignCPUFunction.apply(input, rois, tuple(output_size),
                                     float(spatial_scale), int(sampling_ratio),
                                     bool(aligned))


class RoIAlign(MMCVRoIAlign):
    """mmcv's ``RoIAlign`` (same arguments, same results) that runs
    average pooling of float32 CPU tensors on mmkd's multi-threaded kernel.

    Selected in configs through mmkd's ``SingleRoIExtractor``
    (``roi_layer=dict(type='RoIAlign', ...)``)."""

    def forward(self, input, rois):
        if (self.pool_mode == 'avg' and not self.use_torchvision
                and input.device.type == 'cpu' and rois.device.type == 'cpu'
                and input.dtype == rois.dtype == torch.float32):
            if _roi_align_ext is not None:
                return roi_align_cpu(input, rois, self.output_size,
                                     self.spatial_scale, self.sampling_ratio,
                                     self.aligned)
            # shown once: Python's warning filters skip repeats of a line
            warnings.warn(
                'mmkd._roi_align_ext is not built (`make setup` or `python '
                'setup.py build_ext --inplace` builds it): RoIAlign runs on '
                "mmcv's single-threaded CPU kernel — the same results, slower")
        return super().forward(input, rois)
