# The demo Cityscapes (tools/make_demo_data.py): 128x256 street scenes in the
# Cityscapes layout, 320 train / 64 val, 19 train ids; split lists under
# splits/1_{16,8,4}/. Scaled by 1/8 from the real protocol.
_base_ = './cityscapes.py'
data_root = 'data/cityscapes_demo/'
crop_size = (128, 128)
train_pipeline = [
    dict(type='mmkd.LoadImageFromFile'),
    dict(type='mmkd.LoadSegAnnotations'),
    dict(
        type='RandomResize',
        scale=(256, 128),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='mmkd.LoadImageFromFile'),
    dict(type='Resize', scale=(256, 128), keep_ratio=True),
    dict(type='mmkd.LoadSegAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
