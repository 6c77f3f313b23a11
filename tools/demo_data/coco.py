"""The demo COCO: textured shapes on textured backgrounds, COCO instances
JSON with RLE masks, and its semi-supervised splits."""
import json
import os
import os.path as osp

import cv2
import numpy as np
from mmengine.utils import track_iter_progress

from mmkd.datasets.coco_split import write_splits

from .textures import fill_pattern, textured_background

COCO_CLASSES = ('circle', 'triangle', 'rectangle', 'star')


def _shape_mask(rng, cls, h, w, cx, cy, size):
    """Rasterise one shape of class ``cls`` centred at (cx, cy)."""
    mask = np.zeros((h, w), np.uint8)
    aspect = rng.uniform(0.6, 1.6)
    sx, sy = size * np.sqrt(aspect), size / np.sqrt(aspect)
    angle = rng.uniform(0, 360)
    if cls == 'circle':  # ellipses of varied aspect
        cv2.ellipse(mask, (int(cx), int(cy)), (int(sx / 2), int(sy / 2)),
                    angle, 0, 360, 1, -1)
    else:
        if cls == 'triangle':
            t = np.array([90, 210, 330]) + rng.uniform(-15, 15, 3)
            pts = np.stack([np.cos(np.deg2rad(t)), -np.sin(np.deg2rad(t))], 1)
            pts *= 0.6
        elif cls == 'rectangle':
            pts = np.array([[-.5, -.5], [.5, -.5], [.5, .5], [-.5, .5]])
        else:  # star, 5 points
            t = np.deg2rad(np.arange(10) * 36 + 90)
            r = np.where(np.arange(10) % 2 == 0, 0.6, 0.6 * rng.uniform(.35,
                                                                        .5))
            pts = np.stack([r * np.cos(t), -r * np.sin(t)], 1)
        pts = pts * np.array([sx, sy])
        a = np.deg2rad(angle if cls != 'rectangle' else rng.uniform(-20, 20))
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        pts = pts @ rot.T + np.array([cx, cy])
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
    return mask.astype(bool)


# Object layout of the demo COCO styles: size range (px at 160), objects per
# image, clutter items, and the largest share of an object's area that later
# objects may cover.
COCO_STYLES = dict(
    cluttered=dict(sizes=(14, 70), objects=(1, 7), clutter=(1, 5),
                   max_cover=1.0),
    clean=dict(sizes=(22, 64), objects=(1, 5), clutter=(0, 3),
               max_cover=0.25),
)


def make_coco_image(rng, size=160, style='cluttered'):
    """One image and its instance list (visible masks after occlusion)."""
    layout = COCO_STYLES[style]
    from pycocotools import mask as mask_utils
    h = w = size
    img = textured_background(rng, h, w)
    # clutter, unannotated: thin lines and small jagged blobs (shaped unlike
    # any class, so clutter is not unlabelled positives)
    for _ in range(rng.integers(layout['clutter'][0],
                                layout['clutter'][1] + 1)):
        colour = rng.uniform(0, 255, 3).tolist()
        if rng.random() < 0.5:
            p1, p2 = rng.integers(0, size, 2), rng.integers(0, size, 2)
            cv2.line(img, tuple(int(v) for v in p1), tuple(int(v) for v in p2),
                     colour, int(rng.integers(1, 3)))
        else:
            c = rng.uniform(0, size, 2)
            k = int(rng.integers(7, 12))
            ang = np.sort(rng.uniform(0, 2 * np.pi, k))
            rad = rng.uniform(2, 7) * rng.uniform(0.4, 1.0, k)
            pts = c + np.stack([np.cos(ang), np.sin(ang)], 1) * rad[:, None]
            cv2.fillPoly(img, [np.round(pts).astype(np.int32)], colour)
    n = int(rng.integers(layout['objects'][0], layout['objects'][1] + 1))
    lo, hi = layout['sizes']
    ids = np.zeros((h, w), np.int32)
    objs = []
    for k in range(1, n + 1):
        cls = int(rng.integers(len(COCO_CLASSES)))
        obj_size = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        m = _shape_mask(rng, COCO_CLASSES[cls], h, w, cx, cy, obj_size)
        if m.sum() < 30:
            continue
        if layout['max_cover'] < 1 and any(
                (ids == j).sum() - (ids[m] == j).sum()
                < (1 - layout['max_cover']) * a for j, _, a in objs):
            continue  # would hide too much of an earlier object
        colour = rng.uniform(0, 255, 3)
        fill = fill_pattern(rng, h, w, colour)
        img[m] = fill[m]
        ids[m] = k
        objs.append((k, cls, int(m.sum())))
    img = np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)
    anns = []
    for k, cls, full_area in objs:
        vis = ids == k
        area = int(vis.sum())
        if area < 20 or area < 0.35 * full_area:
            continue  # mostly hidden: not annotated, as in COCO
        ys, xs = np.nonzero(vis)
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        rle = mask_utils.encode(np.asfortranarray(vis.astype(np.uint8)))
        rle['counts'] = rle['counts'].decode('ascii')
        anns.append(dict(category_id=cls + 1, iscrowd=0, area=area,
                         bbox=[int(x0), int(y0), int(x1 - x0), int(y1 - y0)],
                         segmentation=rle, drawn_area=full_area))
    return img, anns


def make_coco(out, rng, n_train, n_val, size, percents, folds,
              style='cluttered'):
    root = osp.join(out, 'coco_demo')
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    categories = [dict(id=i + 1, name=c, supercategory='shape')
                  for i, c in enumerate(COCO_CLASSES)]
    ann_id = 1
    for split, n in (('train2017', n_train), ('val2017', n_val)):
        os.makedirs(osp.join(root, split), exist_ok=True)
        images, annotations = [], []
        print(f'coco_demo/{split}: {n} images')
        for i in track_iter_progress(list(range(n))):
            img, anns = make_coco_image(rng, size, style)
            image_id = i + 1 if split == 'train2017' else 100000 + i + 1
            name = f'{image_id:012d}.jpg'
            cv2.imwrite(osp.join(root, split, name), img,
                        [cv2.IMWRITE_JPEG_QUALITY, 92])
            images.append(dict(id=image_id, file_name=name, height=size,
                               width=size))
            for a in anns:
                del a['drawn_area']  # before occlusion; not COCO's
                a.update(id=ann_id, image_id=image_id)
                ann_id += 1
                annotations.append(a)
        with open(osp.join(root, 'annotations', f'instances_{split}.json'),
                  'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=categories), f)
    # semi-supervised splits, with the project's own split tool
    write_splits(osp.join(root, 'annotations', 'instances_train2017.json'),
                 osp.join(root, 'annotations', 'semi_anns'), percents, folds,
                 seed=1, keep_hidden_gt=True)
