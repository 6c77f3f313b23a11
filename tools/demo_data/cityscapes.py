"""The demo Cityscapes: street-like scenes in Cityscapes' layout (19 train
ids), with split lists."""
import os
import os.path as osp

import cv2
import numpy as np
from mmengine.utils import track_iter_progress

from .textures import smooth_noise

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
