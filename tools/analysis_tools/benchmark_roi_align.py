"""Time mmkd's CPU RoIAlign against mmcv's on one batch of RoIs, and check
that both give the same output and input gradient to the bit.

    python tools/analysis_tools/benchmark_roi_align.py [--rois 500] \\
        [--channels 64]
        [--threads 2] [--repeats 5]

``--rois`` per image, 3 images of 80×100 at stride 4, boxes up to 40 px
(a demo RoI head's level-0 call); median seconds of ``--repeats`` calls.
"""
import argparse

import torch
from benchmark_utils import median_time
from mmcv.ops import roi_align as mmcv_roi_align

from mmkd.ops import roi_align_cpu


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rois', type=int, default=500)
    p.add_argument('--channels', type=int, default=64)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--repeats', type=int, default=5)
    return p.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    feats = torch.randn(3, args.channels, 80, 100, generator=generator)
    rois = []
    for b in range(3):
        xy = torch.rand(args.rois, 2, generator=generator) * 380
        wh = torch.rand(args.rois, 2, generator=generator) * 40
        rois.append(torch.cat([torch.full((args.rois, 1), float(b)), xy,
                               xy + wh], 1))
    rois = torch.cat(rois)
    grad = torch.randn(len(rois), args.channels, 7, 7, generator=generator)
    kernels = dict(
        mmcv=lambda x: mmcv_roi_align(x, rois, (7, 7), 0.25, 0, 'avg', True),
        mmkd=lambda x: roi_align_cpu(x, rois, (7, 7), 0.25))
    results, rows = {}, []
    for name, kernel in kernels.items():
        x = feats.clone().requires_grad_()

        def forward_backward():
            x.grad = None
            kernel(x).backward(grad)

        forward = median_time(lambda: kernel(feats), args.repeats)
        both = median_time(forward_backward, args.repeats)
        results[name] = (kernel(feats), x.grad)
        rows.append((name, forward, both))
    same = all(
        torch.equal(a, b) for a, b in zip(results['mmcv'], results['mmkd']))
    print(f'RoIAlign, {len(rois)} RoIs × {args.channels} channels, '
          f'{args.threads} threads (median of {args.repeats}):')
    print('| kernel | forward s | forward + backward s |')
    print('|---|---|---|')
    for name, forward, both in rows:
        print(f'| {name} | {forward:.4f} | {both:.4f} |')
    print(f'output and input gradient identical to the bit: {same}')


if __name__ == '__main__':
    main()
