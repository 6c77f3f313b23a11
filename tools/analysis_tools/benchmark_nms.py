"""Time mmkd's CPU NMS against mmcv's on RPN-like calls, and check that both
keep the same boxes in the same order.

    python tools/analysis_tools/benchmark_nms.py [--boxes 1500 2500 5000]
        [--threads 2] [--repeats 15]

Each call: ``--boxes`` boxes of up to 40 px on a 160 px image, spread over
5 levels as mmdet's RPN passes them to ``batched_nms`` (the demo's test
call has about 1500, its training call about 2500), IoU threshold 0.7;
median seconds of ``--repeats`` calls of ``batched_nms``.
"""
import argparse

import torch
from benchmark_utils import median_time
from mmcv.ops import batched_nms

import mmkd.ops  # noqa: F401  (adds 'mmkd_nms' to mmcv's NMS names)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--boxes', type=int, nargs='+', default=[1500, 2500, 5000])
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--repeats', type=int, default=15)
    return p.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    print(f'batched_nms over 5 levels, IoU 0.7, {args.threads} threads '
          f'(median of {args.repeats} calls):')
    print('| boxes | mmcv s | mmkd s | mmcv / mmkd | same boxes kept |')
    print('|---|---|---|---|---|')
    for n in args.boxes:
        xy = torch.rand(n, 2, generator=generator) * 160
        wh = torch.rand(n, 2, generator=generator) * 40 + 1
        boxes = torch.cat([xy, xy + wh], 1)
        scores = torch.rand(n, generator=generator)
        levels = torch.randint(5, (n, ), generator=generator)
        calls = {
            name: (lambda name=name: batched_nms(
                boxes, scores, levels, dict(type=name, iou_threshold=0.7)))
            for name in ('nms', 'mmkd_nms')
        }
        times = {k: median_time(f, args.repeats) for k, f in calls.items()}
        same = all(torch.equal(a, b)
                   for a, b in zip(calls['nms'](), calls['mmkd_nms']()))
        print(f'| {n} | {times["nms"]:.5f} | {times["mmkd_nms"]:.5f} | '
              f'{times["nms"] / times["mmkd_nms"]:.1f}× | {same} |')


if __name__ == '__main__':
    main()
