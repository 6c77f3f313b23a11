# V-Net (16 base channels, BN) for binary tooth segmentation, trained with
# cross-entropy + soft Dice; sliding-window inference 112x112x80, stride
# 64/64/32 (RAIL's protocol), components < 3000 voxels removed.
model = dict(
    type='VolumeSegmentor',
    backbone=dict(type='VNet', in_channels=1, num_classes=2,
                  base_channels=16, norm='bn'),
    num_classes=2,
    loss_weights=(1.0, 1.0),
    roi_size=(112, 112, 80),
    sw_overlap=(0.428, 0.428, 0.6),  # stride 64/64/32 for a 112x112x80 window
    sw_batch_size=4,  # windows per forward (1 is slow on CPU)
    min_component_size=3000)
