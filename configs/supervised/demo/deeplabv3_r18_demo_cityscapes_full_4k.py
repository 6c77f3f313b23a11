# Supervised DeepLabV3-R18(w/2)-D8 on all demo Cityscapes labels, the demo
# schedule four times longer (4000 iterations at batch 4, AdamW 1e-3, poly):
# long enough for the network to learn the small classes of the 'objects'
# street scenes, so that more labels help -- the upper row of the
# label-hungry segmentation table (README).
_base_ = './deeplabv3_r18_demo_cityscapes_full.py'
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=50),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=50, end=4000,
         by_epoch=False)
]
train_cfg = dict(max_iters=4000, val_interval=1000)
default_hooks = dict(checkpoint=dict(interval=1000))
