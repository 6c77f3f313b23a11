# Mean teacher with CutMix on the label-hungry demo Cityscapes (README):
# DeepLabV3-R18(w/2)-D8, 1/16 of the labels (20 images) + the other 15/16
# unlabelled, 2 labelled : 2 unlabelled crops per batch, 1000 iterations
# from the supervised 1/16 model of 4000 iterations (first run
#   python tools/train.py \
#     configs/supervised/demo/deeplabv3_r18_demo_cityscapes_1-16_4k.py
#       --work-dir work_dirs/demo/deeplabv3_r18_demo_cityscapes_1-16_4k
# or point model.student.init_cfg.checkpoint at another checkpoint). The
# control of the table is this config with model.unsup_weight=0.
_base_ = './mean_teacher_deeplabv3_mbv2_demo_cityscapes_1-8.py'
model = dict(
    student=dict(
        backbone=dict(
            _delete_=True,
            type='ResNetV1c',
            depth=18,
            stem_channels=32,
            base_channels=32,
            num_stages=4,
            out_indices=(0, 1, 2, 3),
            dilations=(1, 1, 2, 4),
            strides=(1, 2, 1, 1),
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False,
            style='pytorch',
            contract_dilation=True,
            init_cfg=None),
        decode_head=dict(in_channels=256, channels=64),
        auxiliary_head=dict(in_channels=128, channels=32),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/demo/deeplabv3_r18_demo_cityscapes_1-16_4k/'
            'iter_4000.pth')))
train_dataloader = dict(
    dataset=dict(
        labeled=dict(ann_file='splits/1_16/labeled.txt'),
        unlabeled=dict(ann_file='splits/1_16/unlabeled.txt')))
