"""Generate mmkd's demo data sets (deterministic, a few minutes on 2 cores).

Writes, under ``--out`` (default ``data/``), in the real formats so the real
loaders run on them:

* ``coco_demo/``: COCO instances JSON (boxes, RLE instance masks) of textured
  shapes in clutter, train/val, plus semi-supervised splits at 1, 5 and 10 %
  (``annotations/semi_anns/instances_train2017.{fold}@{percent}[-unlabeled]
  .json``); the unlabelled JSON carries no annotations, the hidden ground
  truth is in ``…-unlabeled.gt.json``.
* ``cityscapes_demo/``: ``leftImg8bit/{train,val}/<city>/…_leftImg8bit.png``
  and ``gtFine/…_gtFine_labelTrainIds.png`` (19 train ids, 255 ignore) of
  street-like scenes, split lists for 1/16, 1/8 and 1/4 labelled.
* ``cbct_demo/``: NIfTI volumes with anisotropic spacing, HU-like intensities,
  teeth along a jaw arc whose calibration, noise, pose, size and field of
  view vary from scan to scan, with implants, bone islands and metal
  streaks; binary (or tooth-type) labels; labelled/unlabelled/val lists and
  the budget lists ``labeled_<n>.txt`` / ``unlabeled_<n>.txt``.

Usage::

    python tools/make_demo_data.py [--out data] [--only coco cityscapes cbct]
"""
import argparse
import json
import os
import os.path as osp

import cv2
import numpy as np
from mmengine.utils import track_iter_progress
from scipy import ndimage

from mmkd.datasets.coco_split import write_splits

# --------------------------------------------------------------------------
# shared texture helpers


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


# --------------------------------------------------------------------------
# COCO-format shapes

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


# --------------------------------------------------------------------------
# Cityscapes-layout street scenes

CITYSCAPES_CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole',
                      'traffic light', 'traffic sign', 'vegetation',
                      'terrain', 'sky', 'person', 'rider', 'car', 'truck',
                      'bus', 'train', 'motorcycle', 'bicycle')
# a typical colour per class; each image jitters them (lighting, noise)
_CLASS_RGB = np.array(
    [[128, 64, 128], [232, 35, 244], [70, 70, 70], [156, 102, 102],
     [153, 153, 190], [153, 153, 153], [30, 170, 250], [0, 220, 220],
     [35, 142, 107], [152, 251, 152], [180, 130, 70], [60, 20, 220],
     [0, 0, 255], [142, 0, 0], [70, 0, 0], [100, 60, 0], [100, 80, 0],
     [230, 0, 0], [32, 11, 119]], np.float32)


def make_street_scene(rng, h, w, style='plain'):
    """A street-like scene: label map (train ids, 255 ignore) and image.

    ``style='plain'``: every class keeps nearly one colour in every image.
    ``'varied'``: the layout as in 'plain' with the camera height (horizon)
    varying more, and an appearance drawn per image -- each class's colour
    far from its usual one, a texture per class (flat, blotches or stripes),
    a colour tint and fog that grows with distance -- so that the class must
    be read from shape and context and more labelled images teach more.
    ``'objects'`` (the default of the CLI): see :func:`make_object_scene`.
    """
    if style == 'objects':
        return make_object_scene(rng, h, w)
    varied = style in ('varied', 'longtail')
    # 'longtail': things big and many enough to be learnt in a short run
    big = style == 'longtail'
    lab = np.full((h, w), 10, np.uint8)  # sky
    horizon = int(h * rng.uniform(*((0.25, 0.6) if varied else (0.35, 0.5))))
    # buildings / walls / vegetation along the horizon
    x = 0
    while x < w:
        bw = int(rng.integers(w // 12, w // 4))
        top = int(horizon - rng.uniform(0.1, 0.35) * h)
        cls = rng.choice([2, 2, 2, 8, 3])
        lab[max(top, 0):horizon + 2, x:x + bw] = cls
        x += bw
    # terrain and road/sidewalk in perspective
    lab[horizon:, :] = 9
    vp = w * rng.uniform(0.35, 0.65)
    yy, xx = np.mgrid[0:h, 0:w]
    depth = np.clip((yy - horizon) / max(h - horizon, 1), 0, 1)
    half_road = depth * w * rng.uniform(0.35, 0.5)
    half_walk = half_road + depth * w * rng.uniform(0.08, 0.18)
    dist = np.abs(xx - vp)
    lab[(yy >= horizon) & (dist < half_walk)] = 1
    lab[(yy >= horizon) & (dist < half_road)] = 0
    # fence behind the sidewalk on one side
    if rng.random() < 0.5:
        fence = (yy >= horizon - 0.06 * h) & (yy < horizon + 0.04 * h)
        lab[fence & (xx < vp - 0.2 * w)] = 4

    def put_box(cls, cx, bottom, bw, bh):
        x0, x1 = int(cx - bw / 2), int(cx + bw / 2)
        y0, y1 = int(bottom - bh), int(bottom)
        lab[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = cls

    # poles with signs / lights
    for _ in range(rng.integers(1, 4)):
        px = rng.uniform(0, w)
        bottom = horizon + rng.uniform(0.05, 0.3) * h
        ph = rng.uniform(0.3, 0.6) * h
        put_box(5, px, bottom, max(2, w * (0.02 if big else 0.008)), ph)
        put_box(rng.choice([6, 7]), px, bottom - ph + 0.06 * h,
                w * (0.05 if big else 0.02), (0.12 if big else 0.07) * h)
    # vehicles and people in random order (not by depth: a later one covers
    # an earlier one wherever they overlap); the n draws below only keep the
    # random stream, hence the demo data and the README's numbers, as they
    # were -- the label-hungry generator of issue 12 replaces this scene
    n_objects = int(rng.integers(4, 13) if big else rng.integers(2, 9))
    rng.random(n_objects)
    for _ in range(n_objects):
        bottom = horizon + rng.uniform(0.05, 1.0) * (h - horizon)
        scale = (0.2 + 0.8 * (bottom - horizon) / (h - horizon)) * (
            1.7 if big else 1.0)
        cx = vp + rng.uniform(-0.45, 0.45) * w
        cls = rng.choice([13, 13, 13, 11, 11, 14, 15, 16, 12, 17, 18])
        if cls in (13, 14, 15, 16):
            bw = {13: 0.16, 14: 0.2, 15: 0.26, 16: 0.3}[cls] * w * scale
            bh = {13: 0.1, 14: 0.16, 15: 0.2, 16: 0.18}[cls] * h * scale * 1.6
            put_box(cls, cx, bottom, bw, bh)
            if cls == 13:  # wheels are car too; windows a darker car
                put_box(cls, cx, bottom - bh, bw * 0.7, bh * 0.4)
        elif cls in (11, 12):
            bh = 0.22 * h * scale * 1.5
            if cls == 12:  # rider on a bicycle
                put_box(18, cx, bottom, bh * 0.5, bh * 0.35)
                bottom -= bh * 0.25
            cv2.ellipse(lab, (int(cx), int(bottom - bh / 2)),
                        (max(1, int(bh * 0.12)), max(1, int(bh / 2))), 0, 0,
                        360, int(cls), -1)
        else:  # motorcycle / bicycle
            bh = 0.1 * h * scale * 1.5
            put_box(cls, cx, bottom, bh * 1.4, bh)
    # ego-vehicle hood: ignore
    if rng.random() < 0.7:
        hood = int(h * rng.uniform(0.04, 0.1))
        lab[h - hood:, :] = 255

    # render
    light = rng.uniform(0.7, 1.3)
    jitter = rng.normal(0, 12, size=(20, 3))
    palette = np.concatenate([_CLASS_RGB, np.zeros((1, 3), np.float32)])
    palette[:19] += jitter[:19]
    idx = np.where(lab == 255, 19, lab)
    img = palette[idx] * light
    # textures: windows on buildings, lane marks, foliage noise
    win = ((yy // 6) % 2 == 0) & ((xx // 5) % 2 == 0) & (lab == 2)
    img[win] *= rng.uniform(0.5, 0.8)
    lane = (lab == 0) & (np.abs(xx - vp) < 1 + depth * 2) & \
        ((yy // 6) % 2 == 0)
    img[lane] = 230
    veg = smooth_noise(rng, h, w, 4)[..., 0]
    img[lab == 8] *= (0.6 + 0.8 * veg[lab == 8])[..., None]
    if style == 'varied':
        img = vary_appearance(rng, img, lab, depth, horizon, yy, xx)
    elif style == 'longtail':
        img = longtail_appearance(rng, lab, yy, xx) * light
    img[lab == 255] = 30  # hood
    img *= (0.8 + 0.4 * smooth_noise(rng, h, w, 32))  # shadows
    img += rng.normal(0, 8, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)[..., ::-1], lab


def _draw(lab, img, mask_fn, cls, rgb):
    """Paint ``cls`` into ``lab`` and ``rgb`` into ``img`` where the cv2
    drawing ``mask_fn(canvas)`` marks a shape."""
    m = np.zeros(lab.shape, np.uint8)
    mask_fn(m)
    m = m.astype(bool)
    lab[m] = cls
    img[m] = rgb
    return m


# 'objects': people and two-wheelers drawn SMALL times their street scale,
# poles POLE pixels half-wide (signs 4x, lights 2x6x that): large enough for
# a stride-8 network to learn them from the labels it has
SMALL = 2.6
POLE = 3.0


def make_object_scene(rng, h, w):
    """The 'objects' style: the 'plain' street layout and stuff colours, and
    things (poles with signs or lights, people, riders, cars, trucks, buses,
    motorcycles, bicycles) that only their shape and parts tell apart --
    every instance takes a random colour, the same for all thing classes.

    A car is a body with a cabin, dark windows and two wheels; a truck a cab
    and a taller box; a bus a long box with a row of windows; a person a body
    with a head; a bicycle two rings and a bar; a motorcycle two solid wheels
    under a body; a rider a person on a bicycle.  Recognising a shape in any
    colour takes many examples, so more labelled images teach more.
    """
    lab = np.full((h, w), 10, np.uint8)  # sky
    horizon = int(h * rng.uniform(0.3, 0.5))
    x = 0
    while x < w:
        bw = int(rng.integers(w // 12, w // 4))
        top = int(horizon - rng.uniform(0.1, 0.3) * h)
        lab[max(top, 0):horizon + 2, x:x + bw] = rng.choice([2, 2, 2, 8, 3])
        x += bw
    yy, xx = np.mgrid[0:h, 0:w]
    depth = np.clip((yy - horizon) / max(h - horizon, 1), 0, 1)
    lab[horizon:, :] = 9
    vp = w * rng.uniform(0.35, 0.65)
    half_road = depth * w * rng.uniform(0.35, 0.5)
    half_walk = half_road + depth * w * rng.uniform(0.08, 0.18)
    dist = np.abs(xx - vp)
    lab[(yy >= horizon) & (dist < half_walk)] = 1
    lab[(yy >= horizon) & (dist < half_road)] = 0
    if rng.random() < 0.5:
        fence = (yy >= horizon - 0.06 * h) & (yy < horizon + 0.04 * h)
        lab[fence & (xx < vp - 0.2 * w)] = 4
    # stuff: one colour per class, jittered per image, lit per image
    palette = _CLASS_RGB + rng.normal(0, 12, size=_CLASS_RGB.shape)
    img = palette[lab].astype(np.float32)
    win = ((yy // 6) % 2 == 0) & ((xx // 5) % 2 == 0) & (lab == 2)
    img[win] *= rng.uniform(0.5, 0.8)
    lane = (lab == 0) & (dist < 1 + depth * 2) & ((yy // 6) % 2 == 0)
    img[lane] = 230
    veg = smooth_noise(rng, h, w, 4)[..., 0]
    img[lab == 8] *= (0.6 + 0.8 * veg[lab == 8])[..., None]

    def colour():
        return rng.uniform(25, 230, 3)

    def dark(rgb):
        return rgb * 0.35 + 10

    def rect(x0, y0, x1, y1):
        return lambda m: cv2.rectangle(m, (int(x0), int(y0)),
                                       (int(x1), int(y1)), 1, -1)

    def disc(cx, cy, r, thick=-1):
        return lambda m: cv2.circle(m, (int(cx), int(cy)), max(1, int(r)), 1,
                                    thick)

    def ellipse(cx, cy, ax, ay):
        return lambda m: cv2.ellipse(m, (int(cx), int(cy)), (
            max(1, int(ax)), max(1, int(ay))), 0, 0, 360, 1, -1)

    def person(cx, bottom, s, cls):
        body = colour()
        _draw(lab, img, ellipse(cx, bottom - 13 * s, 4.5 * s, 13 * s), cls,
              body)
        _draw(lab, img, disc(cx, bottom - 28 * s, 3.5 * s), cls,
              colour() * 0.5 + 90)

    def bicycle(cx, bottom, s):
        rgb, r = colour(), 6 * s
        for dx in (-8 * s, 8 * s):
            _draw(lab, img, disc(cx + dx, bottom - r, r, max(1, int(s * 1.5))),
                  18, rgb)
        _draw(lab, img, rect(cx - 8 * s, bottom - r - 1.5 * s, cx + 8 * s,
                             bottom - r + 1.5 * s), 18, rgb)

    def wheels(cx, bottom, half, r, cls):
        for dx in (-half, half):
            _draw(lab, img, disc(cx + dx, bottom - r, r), cls, (25, 25, 25))

    # poles with a sign or a light
    for _ in range(rng.integers(1, 4)):
        px = rng.uniform(0, w)
        bottom = horizon + rng.uniform(0.05, 0.3) * h
        ph = rng.uniform(0.35, 0.6) * h
        rgb = colour()
        _draw(lab, img, rect(px - POLE, bottom - ph, px + POLE, bottom), 5,
              rgb)
        top = bottom - ph
        if rng.random() < 0.5:  # sign: a square panel
            _draw(lab, img, rect(px - 4 * POLE, top - 4 * POLE,
                                 px + 4 * POLE, top + 4 * POLE), 7,
                  colour())
        else:  # light: a dark box with three lamps
            _draw(lab, img, rect(px - 2 * POLE, top - 6 * POLE,
                                 px + 2 * POLE, top + 6 * POLE), 6,
                  dark(rgb))
            for dy in (-3.5 * POLE, 0, 3.5 * POLE):
                img[int(top + dy) - 1:int(top + dy) + 2,
                    int(px) - 1:int(px) + 2] = colour() * 0.3 + 170
    # vehicles and people, far ones first (a near one covers a far one)
    n_objects = int(rng.integers(4, 11))
    bottoms = np.sort(horizon + rng.uniform(0.1, 1.0, n_objects) *
                      (h - horizon))
    for bottom in bottoms:
        s = 0.35 + 0.9 * (bottom - horizon) / (h - horizon)
        cx = vp + rng.uniform(-0.5, 0.5) * w
        cls = rng.choice([13, 13, 13, 11, 11, 14, 15, 12, 17, 18])
        rgb = colour()
        if cls == 13:  # car: body, cabin with windows, two wheels
            _draw(lab, img, rect(cx - 24 * s, bottom - 17 * s, cx + 24 * s,
                                 bottom - 4 * s), 13, rgb)
            _draw(lab, img, rect(cx - 14 * s, bottom - 27 * s, cx + 14 * s,
                                 bottom - 17 * s), 13, rgb)
            _draw(lab, img, rect(cx - 11 * s, bottom - 25 * s, cx + 11 * s,
                                 bottom - 18 * s), 13, dark(rgb))
            wheels(cx, bottom, 15 * s, 5 * s, 13)
        elif cls == 14:  # truck: cab, tall cargo box, wheels
            _draw(lab, img, rect(cx + 14 * s, bottom - 30 * s, cx + 32 * s,
                                 bottom - 5 * s), 14, rgb)
            _draw(lab, img, rect(cx + 20 * s, bottom - 27 * s, cx + 30 * s,
                                 bottom - 18 * s), 14, dark(rgb))
            _draw(lab, img, rect(cx - 32 * s, bottom - 44 * s, cx + 12 * s,
                                 bottom - 5 * s), 14, colour())
            wheels(cx, bottom, 22 * s, 6 * s, 14)
        elif cls == 15:  # bus: long box, a row of windows, wheels
            _draw(lab, img, rect(cx - 45 * s, bottom - 40 * s, cx + 45 * s,
                                 bottom - 5 * s), 15, rgb)
            for k in range(6):
                x0 = cx - 40 * s + k * 14 * s
                _draw(lab, img, rect(x0, bottom - 34 * s, x0 + 10 * s,
                                     bottom - 24 * s), 15, dark(rgb))
            wheels(cx, bottom, 30 * s, 6 * s, 15)
        elif cls == 11:  # people and two-wheelers: larger than to scale
            person(cx, bottom, SMALL * s, 11)
        elif cls == 12:  # rider on a bicycle
            bicycle(cx, bottom, SMALL * s)
            person(cx, bottom - 9 * SMALL * s, 0.8 * SMALL * s, 12)
        elif cls == 17:  # motorcycle: two solid wheels, a body
            m = SMALL * s
            wheels(cx, bottom, 9 * m, 5 * m, 17)
            _draw(lab, img, ellipse(cx, bottom - 10 * m, 11 * m, 5 * m), 17,
                  rgb)
        else:
            bicycle(cx, bottom, SMALL * s)
    if rng.random() < 0.7:  # ego-vehicle hood: ignore
        hood = int(h * rng.uniform(0.04, 0.1))
        lab[h - hood:, :] = 255
    img *= rng.uniform(0.7, 1.3)  # lighting
    img[lab == 255] = 30
    img *= (0.8 + 0.4 * smooth_noise(rng, h, w, 32))  # shadows
    img += rng.normal(0, 8, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)[..., ::-1], lab


def vary_appearance(rng, img, lab, depth, horizon, yy, xx):
    """The 'varied' style's per-image appearance (see make_street_scene)."""
    h, w = lab.shape
    shift = rng.normal(0, 55, size=(19, 3))  # each class's colour moves
    out = img.copy()
    for c in np.unique(lab[lab != 255]):
        m = lab == c
        kind = rng.integers(0, 3)
        if kind == 1:  # blotches
            pattern = smooth_noise(rng, h, w, int(rng.integers(3, 12)))[..., 0]
        elif kind == 2:  # stripes at a random angle and period
            a, period = rng.uniform(0, np.pi), rng.uniform(3, 12)
            pattern = 0.5 + 0.5 * np.sin(
                (xx * np.cos(a) + yy * np.sin(a)) * 2 * np.pi / period)
        else:
            pattern = np.full((h, w), 0.5, np.float32)
        amp = rng.uniform(0.1, 0.6)
        out[m] = (out[m] + shift[c]) * (1 + amp * (pattern[m] - 0.5))[:, None]
    out *= rng.uniform(0.75, 1.25, size=3)  # colour tint
    # fog: far (at and above the horizon) towards a grey
    far = np.where(yy < horizon, 1.0, 1.0 - depth)[..., None]
    fog = rng.uniform(0.0, 0.6) * far
    return out * (1 - fog) + fog * rng.uniform(120, 220)


# 'longtail': per class, LONGTAIL_KINDS looks (a colour and a texture), the
# same in every image and split, drawn per region with Zipf frequencies
LONGTAIL_KINDS = 24
LONGTAIL_ZIPF = 1.0


def _longtail_bank():
    bank_rng = np.random.default_rng(20261201)  # fixed: shared by all splits
    kinds = []
    for _ in range(len(CITYSCAPES_CLASSES)):
        kinds.append([dict(rgb=bank_rng.uniform(20, 235, 3),
                           texture=int(bank_rng.integers(0, 3)),
                           scale=int(bank_rng.integers(3, 12)),
                           angle=bank_rng.uniform(0, np.pi),
                           period=bank_rng.uniform(3, 12),
                           amp=bank_rng.uniform(0.1, 0.6))
                      for _ in range(LONGTAIL_KINDS)])
    freq = 1.0 / np.arange(1, LONGTAIL_KINDS + 1)**LONGTAIL_ZIPF
    return kinds, freq / freq.sum()


_LONGTAIL = None


def longtail_appearance(rng, lab, yy, xx):
    """The 'longtail' style: each connected region of a class takes one of
    the class's looks (colour, texture), rare looks rarely -- a few labelled
    images show the common looks only, as real classes' long tails of
    appearance.  Colours are random per look, so colour alone says little
    about the class; shape and context say it."""
    global _LONGTAIL
    if _LONGTAIL is None:
        _LONGTAIL = _longtail_bank()
    kinds, freq = _LONGTAIL
    h, w = lab.shape
    img = np.zeros((h, w, 3), np.float32)
    for c in np.unique(lab[lab != 255]):
        n, comp = cv2.connectedComponents((lab == c).astype(np.uint8))
        for i in range(1, n):
            m = comp == i
            look = kinds[c][rng.choice(len(freq), p=freq)]
            if look['texture'] == 1:  # blotches
                pattern = smooth_noise(rng, h, w, look['scale'])[..., 0]
            elif look['texture'] == 2:  # stripes
                a, period = look['angle'], look['period']
                pattern = 0.5 + 0.5 * np.sin(
                    (xx * np.cos(a) + yy * np.sin(a)) * 2 * np.pi / period)
            else:
                pattern = np.full((h, w), 0.5, np.float32)
            img[m] = look['rgb'] * (1 + look['amp'] *
                                    (pattern[m] - 0.5))[:, None]
    return img


def make_cityscapes(out, rng, n_train, n_val, h, w, style='plain'):
    root = osp.join(out, 'cityscapes_demo')
    names = {}
    for split, n, cities in (('train', n_train, ('aachen', 'bochum')),
                             ('val', n_val, ('frankfurt', ))):
        print(f'cityscapes_demo/{split}: {n} images')
        names[split] = []
        for i in track_iter_progress(list(range(n))):
            city = cities[i % len(cities)]
            stem = f'{city}_{i // len(cities):06d}_000019'
            img, lab = make_street_scene(rng, h, w, style)
            for sub, suffix, arr in (('leftImg8bit', '_leftImg8bit.png', img),
                                     ('gtFine', '_gtFine_labelTrainIds.png',
                                      lab)):
                d = osp.join(root, sub, split, city)
                os.makedirs(d, exist_ok=True)
                cv2.imwrite(osp.join(d, stem + suffix), arr)
            names[split].append(f'{city}/{stem}')
    split_dir = osp.join(root, 'splits')
    os.makedirs(split_dir, exist_ok=True)
    order = rng.permutation(len(names['train']))
    for denom in (16, 8, 4):
        n_lab = len(order) // denom
        lab_set = set(order[:n_lab].tolist())
        d = osp.join(split_dir, f'1_{denom}')
        os.makedirs(d, exist_ok=True)
        for fname, keep in (('labeled.txt', True), ('unlabeled.txt', False)):
            with open(osp.join(d, fname), 'w') as f:
                f.writelines(n + '\n' for j, n in enumerate(names['train'])
                             if (j in lab_set) == keep)


# --------------------------------------------------------------------------
# CBCT volumes


def make_cbct_volume(rng, shape, multiclass=False):
    """A jaw-like arc of teeth in HU: returns (image float32, label uint8).

    ``shape`` is (X, Y, Z) in voxels; label 1 = tooth (or 1..4 tooth type:
    incisor, canine, premolar, molar, with ``multiclass``).
    """
    X, Y, Z = shape
    xx, yy, zz = np.meshgrid(np.arange(X), np.arange(Y), np.arange(Z),
                             indexing='ij')
    img = np.full(shape, -1000.0, np.float32)  # air
    # soft tissue: an ellipsoid head section
    head = ((xx - X / 2) / (0.48 * X))**2 + ((yy - Y / 2) / (0.48 * Y))**2 \
        <= 1
    img[head] = rng.uniform(0, 80)
    # jaw bone arc: a parabola band in the axial plane
    cx = X / 2 + rng.uniform(-3, 3)
    a = rng.uniform(0.025, 0.04) * 64 / X
    y0 = Y * rng.uniform(0.25, 0.32)
    arc_y = y0 + a * (xx - cx)**2
    band = np.abs(yy - arc_y) < 0.09 * Y
    zc = Z * rng.uniform(0.45, 0.55)
    bone = band & (np.abs(zz - zc) < 0.35 * Z) & head
    img[bone] = rng.uniform(900, 1400) + rng.normal(0, 120, bone.sum())
    lab = np.zeros(shape, np.uint8)
    # teeth along the arc
    n_side = int(rng.integers(5, 8))
    t_vals = np.linspace(-1, 1, 2 * n_side)
    half_w = 0.42 * X
    for k, t in enumerate(t_vals):
        if rng.random() < 0.1:
            continue  # a missing tooth
        tx = cx + t * half_w
        ty = y0 + a * (tx - cx)**2
        dist_mid = abs(t)
        tooth_type = 1 if dist_mid < 0.25 else 2 if dist_mid < 0.4 else \
            3 if dist_mid < 0.7 else 4
        r = (0.035 + 0.012 * tooth_type) * X * rng.uniform(0.85, 1.15)
        crown = Z * rng.uniform(0.12, 0.18)
        root_len = Z * rng.uniform(0.18, 0.28)
        upper = rng.random() < 0.5
        sign = 1 if upper else -1
        zz_rel = (zz - zc) * sign  # >0 towards the root
        radius = np.where(zz_rel > 0, r * (1 - 0.6 * zz_rel / root_len), r)
        body = ((xx - tx)**2 + (yy - ty)**2 <= radius**2) & \
            (zz_rel > -crown) & (zz_rel < root_len)
        # dentin overlaps dense bone in HU: intensity alone does not segment
        img[body] = rng.uniform(1300, 1800) + rng.normal(0, 150, body.sum())
        enamel = body & (zz_rel < -crown * 0.5)
        img[enamel] += 400
        lab[body] = tooth_type if multiclass else 1
    # metal streaks from a filling: bright lines through one axial band
    if rng.random() < 0.6:
        z_s = int(zc + rng.uniform(-0.1, 0.1) * Z)
        for _ in range(rng.integers(2, 5)):
            ang = rng.uniform(0, np.pi)
            d = (xx - cx) * np.sin(ang) - (yy - y0) * np.cos(ang)
            streak = (np.abs(d) < 0.6) & (np.abs(zz - z_s) < 2)
            img[streak] += rng.choice([-1, 1]) * rng.uniform(400, 900)
    img += rng.normal(0, rng.uniform(120, 220), shape)  # noise
    # the scanner's blur, in 3D (σ ≈ 0.45 mm: 1.1 voxels in-plane, 0.75
    # along the 0.6 mm axis)
    img = ndimage.gaussian_filter(img, sigma=(1.1, 1.1, 0.75), truncate=2.0)
    # scanner-to-scanner calibration differences
    img = img * rng.uniform(0.85, 1.15) + rng.uniform(-150, 150)
    return img.astype(np.float32), lab


def make_cbct_volume_varied(rng, shape, multiclass=False):
    """A jaw-like arc of teeth whose appearance varies from scan to scan.

    What a few labelled scans cannot cover (the label-hungry demo of the
    README): the scanner's calibration and noise, the patient's size and
    arch, the pose (the arch turned in the axial plane), the field of view
    (teeth cut off at its edge), teeth tilted and of the bone's density
    (dentin at times as dense as the bone; the dark periodontal
    ligament around each root shows the outline), and tooth-like bright
    structures that are not teeth (metal implants in gaps, bone islands).
    Same outputs as :func:`make_cbct_volume`.
    """
    X, Y, Z = shape
    xx, yy, zz = np.meshgrid(np.arange(X), np.arange(Y), np.arange(Z),
                             indexing='ij')
    # pose: the arch is turned by `theta` in the axial plane around the
    # head's centre; (u, v) are the arch's own axes
    hx = X / 2 + rng.uniform(-0.05, 0.05) * X
    hy = Y / 2 + rng.uniform(-0.05, 0.05) * Y
    theta = rng.uniform(-0.45, 0.45)
    c, s = np.cos(theta), np.sin(theta)
    u = c * (xx - hx) + s * (yy - hy)
    v = -s * (xx - hx) + c * (yy - hy)
    img = np.full(shape, -1000.0, np.float32)  # air
    head = (u / (rng.uniform(0.42, 0.5) * X))**2 + \
        (v / (rng.uniform(0.42, 0.5) * Y))**2 <= 1
    img[head] = rng.uniform(-50, 100)
    size = rng.uniform(0.75, 1.3)  # the patient's scale
    a = rng.uniform(0.02, 0.05) * 64 / X / size  # arch curvature
    v0 = -Y * rng.uniform(0.18, 0.28)
    arc_v = v0 + a * u**2
    bone_hu = rng.uniform(700, 1300)
    band = np.abs(v - arc_v) < rng.uniform(0.07, 0.11) * Y * size
    zc = Z * rng.uniform(0.42, 0.58)
    bone = band & (np.abs(zz - zc) < rng.uniform(0.28, 0.4) * Z) & head
    img[bone] = bone_hu + rng.normal(0, 120, bone.sum())
    lab = np.zeros(shape, np.uint8)
    dentin_hu = rng.uniform(1300, 2000)  # at times as dense as the bone
    enamel_hu = rng.uniform(300, 700)
    n_side = int(rng.integers(4, 8))
    half_w = rng.uniform(0.3, 0.42) * X * size
    gaps = []
    for t in np.linspace(-1, 1, 2 * n_side):
        tu = t * half_w
        tv = v0 + a * tu**2
        if rng.random() < 0.15:
            gaps.append((tu, tv))
            continue  # a missing tooth
        dist_mid = abs(t)
        tooth_type = 1 if dist_mid < 0.25 else 2 if dist_mid < 0.4 else \
            3 if dist_mid < 0.7 else 4
        r = (0.03 + 0.011 * tooth_type) * X * size * rng.uniform(0.85, 1.15)
        crown = Z * rng.uniform(0.1, 0.18)
        root_len = Z * rng.uniform(0.18, 0.3)
        sign = 1 if rng.random() < 0.5 else -1  # upper or lower jaw
        zz_rel = (zz - zc) * sign  # >0 towards the root
        tilt_u, tilt_v = rng.uniform(-0.3, 0.3, 2)  # the tooth's axis
        du = u - tu - tilt_u * zz_rel
        dv = v - tv - tilt_v * zz_rel
        radius = np.where(zz_rel > 0, r * (1 - 0.6 * zz_rel / root_len), r)
        ext = (zz_rel > -crown) & (zz_rel < root_len)
        body = (du**2 + dv**2 <= radius**2) & ext
        ligament = (du**2 + dv**2 <= (radius + 1.2)**2) & ext & ~body & \
            (zz_rel > 0) & (lab == 0)
        img[ligament] = rng.uniform(100, 400)
        img[body] = dentin_hu + rng.normal(0, 150, body.sum())
        img[body & (zz_rel < -crown * 0.5)] += enamel_hu
        lab[body] = tooth_type if multiclass else 1
    # tooth-like bright structures that are not teeth: a metal implant in
    # a gap (a straight screw, no crown), bone islands in the jaw
    for tu, tv in gaps:
        if rng.random() < 0.5:
            r = 0.035 * X * size
            zs = (zz - zc) * (1 if rng.random() < 0.5 else -1)
            screw = ((u - tu)**2 + (v - tv)**2 <= r**2) & (zs > 0) & \
                (zs < Z * rng.uniform(0.2, 0.3))
            img[screw] = rng.uniform(2600, 3500)
    for _ in range(int(rng.integers(0, 4))):
        p = np.array([rng.uniform(-0.35, 0.35) * X, 0, zc])
        p[1] = v0 + a * p[0]**2 + rng.uniform(-0.1, 0.1) * Y
        rad = rng.uniform(1.5, 4.0, 3)
        blob = ((u - p[0]) / rad[0])**2 + ((v - p[1]) / rad[1])**2 + \
            ((zz - p[2] - rng.uniform(-0.25, 0.25) * Z) / rad[2])**2 <= 1
        img[blob & (lab == 0)] = dentin_hu + enamel_hu * rng.uniform(0, 1)
    # metal streaks from fillings: bright and dark lines in axial bands
    for _ in range(int(rng.poisson(1.0))):
        z_s = int(zc + rng.uniform(-0.15, 0.15) * Z)
        for _ in range(rng.integers(2, 6)):
            ang = rng.uniform(0, np.pi)
            d = u * np.sin(ang) - (v - v0) * np.cos(ang)
            streak = (np.abs(d) < 0.7) & (np.abs(zz - z_s) < 2)
            img[streak] += rng.choice([-1, 1]) * rng.uniform(400, 1000)
    img += rng.normal(0, rng.uniform(80, 250), shape)  # noise
    sigma = rng.uniform(0.7, 1.4)  # the scanner's blur (0.6 mm axis: less)
    img = ndimage.gaussian_filter(img, sigma=(sigma, sigma, 0.7 * sigma),
                                  truncate=2.0)
    # field of view: a cylinder around a random centre; no data outside
    fov = (xx - X / 2 - rng.uniform(-0.1, 0.1) * X)**2 + \
        (yy - Y / 2 - rng.uniform(-0.1, 0.1) * Y)**2 <= \
        (rng.uniform(0.42, 0.6) * X)**2
    img[~fov] = -1000
    lab[~fov] = 0
    # scanner-to-scanner calibration differences
    img = img * rng.uniform(0.8, 1.2) + rng.uniform(-200, 200)
    return img.astype(np.float32), lab


CBCT_STYLES = dict(plain=make_cbct_volume, varied=make_cbct_volume_varied)


def make_cbct(out, rng, n_train, n_val, n_labeled, shape, spacing,
              multiclass, style='varied', budgets=()):
    import nibabel as nib
    root = osp.join(out, 'cbct_demo')
    for sub in ('images', 'labels'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    affine = np.diag(list(spacing) + [1.0])
    names = []
    print(f'cbct_demo: {n_train + n_val} volumes {shape} '
          f'spacing {spacing} mm')
    for i in track_iter_progress(list(range(n_train + n_val))):
        img, lab = CBCT_STYLES[style](rng, shape, multiclass)
        name = f'case_{i:03d}'
        nib.save(nib.Nifti1Image(img.astype(np.int16), affine),
                 osp.join(root, 'images', name + '.nii.gz'))
        nib.save(nib.Nifti1Image(lab, affine),
                 osp.join(root, 'labels', name + '.nii.gz'))
        names.append(name)
    lists = dict(labeled=names[:n_labeled],
                 unlabeled=names[n_labeled:n_train],
                 train=names[:n_train], val=names[n_train:])
    # the label budgets of the README's table: the first n train cases
    for n in budgets:
        if n < n_train:
            lists[f'labeled_{n}'] = names[:n]
            lists[f'unlabeled_{n}'] = names[n:n_train]
    for key, vals in lists.items():
        with open(osp.join(root, f'{key}.txt'), 'w') as f:
            f.writelines(v + '\n' for v in vals)


def parse_args():
    p = argparse.ArgumentParser(description='Generate mmkd demo data')
    p.add_argument('--out', default='data')
    p.add_argument('--only', nargs='+', default=['coco', 'cityscapes',
                                                 'cbct'],
                   choices=['coco', 'cityscapes', 'cbct'])
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--coco-train', type=int, default=2000)
    p.add_argument('--coco-val', type=int, default=200)
    p.add_argument('--coco-size', type=int, default=160)
    p.add_argument('--coco-style', choices=sorted(COCO_STYLES),
                   default='clean',
                   help="object layout (COCO_STYLES; 'cluttered' was the "
                   "default before the demo regime of README)")
    p.add_argument('--city-train', type=int, default=320)
    p.add_argument('--city-val', type=int, default=64)
    p.add_argument('--city-size', type=int, nargs=2, default=[128, 256],
                   metavar=('H', 'W'))
    p.add_argument('--city-style', choices=['plain', 'varied', 'longtail',
                                            'objects'],
                   default='objects',
                   help="street-scene appearance (see make_street_scene); "
                   "'objects' is the label-hungry demo of the README, "
                   "'plain' the earlier one (the distillation tables)")
    p.add_argument('--cbct-train', type=int, default=16)
    p.add_argument('--cbct-val', type=int, default=8)
    p.add_argument('--cbct-labeled', type=int, default=4)
    p.add_argument('--cbct-shape', type=int, nargs=3, default=[80, 80, 48])
    p.add_argument('--cbct-spacing', type=float, nargs=3,
                   default=[0.4, 0.4, 0.6])
    p.add_argument('--cbct-budgets', type=int, nargs='*', default=[1, 2, 4],
                   help='also write labeled_<n>.txt / unlabeled_<n>.txt')
    p.add_argument('--cbct-style', choices=sorted(CBCT_STYLES),
                   default='varied',
                   help="scan appearance: 'varied' is the label-hungry demo "
                   "of the README, 'plain' the earlier one")
    p.add_argument('--cbct-multiclass', action='store_true',
                   help='label teeth by type 1..4 instead of binary')
    return p.parse_args()


def main():
    args = parse_args()
    # one generator per data set, so each is reproducible on its own
    seeds = np.random.SeedSequence(args.seed).spawn(3)
    if 'coco' in args.only:
        make_coco(args.out, np.random.default_rng(seeds[0]), args.coco_train,
                  args.coco_val, args.coco_size, [1, 5, 10], 1,
                  args.coco_style)
    if 'cityscapes' in args.only:
        make_cityscapes(args.out, np.random.default_rng(seeds[1]),
                        args.city_train, args.city_val, *args.city_size,
                        args.city_style)
    if 'cbct' in args.only:
        make_cbct(args.out, np.random.default_rng(seeds[2]), args.cbct_train,
                  args.cbct_val, args.cbct_labeled, tuple(args.cbct_shape),
                  tuple(args.cbct_spacing), args.cbct_multiclass,
                  args.cbct_style, args.cbct_budgets)
    print(f'demo data written to {osp.abspath(args.out)}')


if __name__ == '__main__':
    main()
