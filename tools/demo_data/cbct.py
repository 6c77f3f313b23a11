"""The demo CBCT: NIfTI volumes of teeth along a jaw arc in HU, with label
volumes and case lists."""
import os
import os.path as osp

import numpy as np
from mmengine.utils import track_iter_progress
from scipy import ndimage


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
