"""How far apart are the box pairs two teachers' consensus fuses?

Runs two detectors (config + checkpoint each, e.g. the two supervised
starting points of a Dual Soft Teacher run) on unlabelled images, keeps each
one's boxes with score ≥ δ, matches them as the consensus does
(:func:`mmkd.detection.match_boxes`: same class, greedy by IoU, IoU > 0)
and prints how the matched pairs' IoUs are spread::

    python tools/analysis_tools/dual_consensus_iou.py CONFIG_A CKPT_A \\
        CONFIG_B CKPT_B --ann-file data/coco_demo/annotations/semi_anns/\\
instances_train2017.1@10-unlabeled.json --img-dir data/coco_demo/train2017
"""
import argparse
import json
import os.path as osp

import torch


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ('config_a', 'checkpoint_a', 'config_b', 'checkpoint_b'):
        p.add_argument(name)
    p.add_argument('--ann-file', required=True,
                   help='COCO json listing the images')
    p.add_argument('--img-dir', required=True)
    p.add_argument('--delta', type=float, default=0.5)
    p.add_argument('--max-images', type=int, default=200)
    p.add_argument('--bins', type=float, nargs='+',
                   default=[0.0, 0.1, 0.3, 0.5, 0.7, 1.0])
    return p.parse_args()


def main():
    args = parse_args()
    from mmdet.apis import inference_detector, init_detector

    from mmkd.detection import match_boxes
    from mmkd.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    models = [init_detector(args.config_a, args.checkpoint_a, device='cpu'),
              init_detector(args.config_b, args.checkpoint_b, device='cpu')]
    images = json.load(open(args.ann_file))['images'][:args.max_images]
    ious = []
    for image in images:
        path = osp.join(args.img_dir, image['file_name'])
        a, b = (inference_detector(m, path).pred_instances for m in models)
        a, b = a[a.scores >= args.delta], b[b.scores >= args.delta]
        ious.append(match_boxes(a, b)[2].cpu())
    ious = torch.cat(ious)
    print(f'{len(images)} images, {len(ious)} matched pairs at '
          f'delta={args.delta}')
    edges = args.bins
    for lo, hi in zip(edges[:-1], edges[1:]):
        n = int(((ious > lo) & (ious <= hi)).sum())
        print(f'IoU in ({lo:.1f}, {hi:.1f}]: {n} '
              f'({n / max(len(ious), 1):.1%})')


if __name__ == '__main__':
    main()
