"""ResVNet: a 3D ResNet-34 encoder (InstanceNorm) feeding the V-Net decoder
(BatchNorm) -- the second student architecture of RAIL's groups (its
reference code's ``networks/ResVNet.py``; ``shared/specs/
rail_reference.md`` §1.1). No dropout.
"""
import torch.nn as nn
from mmengine.model import BaseModule

from mmkd.registry import MODELS

from .vnet import VNet


class BasicBlock3d(nn.Module):
    """ResNet's basic block in 3D: two 3×3×3 convs with InstanceNorm, the
    input added (through a strided 1×1×1 conv when the shape changes)."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv3d(cin, cout, 3, stride, 1, bias=False),
            nn.InstanceNorm3d(cout, affine=True), nn.ReLU(inplace=True),
            nn.Conv3d(cout, cout, 3, 1, 1, bias=False),
            nn.InstanceNorm3d(cout, affine=True))
        self.skip = nn.Identity()
        if stride != 1 or cin != cout:
            self.skip = nn.Sequential(
                nn.Conv3d(cin, cout, 1, stride, bias=False),
                nn.InstanceNorm3d(cout, affine=True))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.body(x) + self.skip(x))


@MODELS.register_module()
class ResVNet(BaseModule):
    """Per-voxel class logits ``(N, num_classes, X, Y, Z)`` from a 3D
    ResNet-34 encoder (blocks 3-4-6-3) and V-Net's decoder.

    The encoder's five scales have ``base_channels * 2**i`` channels (16 …
    256 in RAIL): a stem at full resolution, then four stages that halve
    the resolution; the first four are the decoder's skips.

    Args:
        in_channels / num_classes / base_channels: as :class:`VNet`.
        blocks: basic blocks per encoder stage (ResNet-34: 3, 4, 6, 3).
    Inputs must be divisible by 16 in each spatial dimension.
    """

    def __init__(self, in_channels=1, num_classes=2, base_channels=16,
                 blocks=(3, 4, 6, 3), init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        c = [base_channels * 2**i for i in range(5)]
        self.stem = nn.Sequential(
            nn.Conv3d(in_channels, c[0], 3, 1, 1, bias=False),
            nn.InstanceNorm3d(c[0], affine=True), nn.ReLU(inplace=True))
        self.stages = nn.ModuleList()
        for i, n in enumerate(blocks):
            layers = [BasicBlock3d(c[i], c[i + 1], stride=2)]
            layers += [BasicBlock3d(c[i + 1], c[i + 1]) for _ in range(n - 1)]
            self.stages.append(nn.Sequential(*layers))
        # V-Net's decoder (BatchNorm), without its encoder
        vnet = VNet(in_channels, num_classes, base_channels, norm='bn')
        self.up, self.dec, self.out = vnet.up, vnet.dec, vnet.out
        self.dropout = nn.Identity()
        self.num_classes = num_classes

    decode = VNet.decode

    def forward(self, x):
        skips = [self.stem(x)]
        for stage in self.stages:
            skips.append(stage(skips[-1]))
        return self.decode(skips.pop(), skips)
