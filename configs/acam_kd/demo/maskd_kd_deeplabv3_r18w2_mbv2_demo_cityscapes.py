# Baseline for ACAM-KD on identical runs:
# MasKD-style teacher-only masks of the
# segmentation logits (decode_head.conv_seg), same teacher, student and
# schedule as acam_kd_deeplabv3_r18w2_mbv2_demo_cityscapes.py.
_base_ = './acam_kd_deeplabv3_r18w2_mbv2_demo_cityscapes.py'
model = dict(
    distill_losses=dict(
        _delete_=True,
        logits=dict(type='mmkd.MasKDLoss', student_channels=19,
                    teacher_channels=19, num_masks=19,
                    inputs=_base_.logits_inputs)))
custom_hooks = [dict(type='mmkd.RNGStateHook')]
