# Supervised V-Net on a CBCT tooth data set (labelled cases only), RAIL's
# patch size, optimiser and inference.
_base_ = [
    '../_base_/models/vnet.py', '../_base_/datasets/cbct.py',
    '../_base_/schedules/schedule_cbct.py', '../_base_/default_runtime_3d.py'
]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000,
                    max_keep_ckpts=2, save_best='cbct/Dice', rule='greater'))
