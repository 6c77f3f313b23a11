# Mean teacher on Cityscapes with 1/16 labelled (186 images); otherwise as
# mean_teacher_cityscapes.py (1/8). 240 epochs of the 2789 unlabelled
# images at 8 per iteration.
_base_ = './mean-teacher_deeplabv3plus_r101-os16_240e_semi-1-8-cityscapes.py'
split = '1_16'
max_iters = 83760
train_dataloader = dict(
    dataset=dict(
        labeled=dict(ann_file=f'splits/{split}/labeled.txt'),
        unlabeled=dict(ann_file=f'splits/{split}/unlabeled.txt')))
param_scheduler = [
    dict(type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters)
