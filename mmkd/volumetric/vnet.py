"""V-Net (Milletari et al., 3DV 2016) in the form the semi-supervised medical
segmentation code bases use (UA-MT, MC-Net, RAIL): four stride-2 stages,
additive skip connections, BatchNorm (RAIL's ResVNet students, a 3D
ResNet-34 encoder on this decoder, are in ``resvnet.py``).

MONAI's ``VNet`` fixes the first stage at 16 channels; here the width is
``base_channels`` so demo and test models can be narrow on a CPU.
"""
import torch.nn as nn
from mmengine.model import BaseModule

from mmkd.registry import MODELS


def _conv_bn_relu(cin, cout, norm):
    layers = [nn.Conv3d(cin, cout, 3, padding=1)]
    if norm == 'bn':
        layers.append(nn.BatchNorm3d(cout))
    elif norm == 'in':
        layers.append(nn.InstanceNorm3d(cout, affine=True))
    layers.append(nn.ReLU(inplace=True))
    return layers


class ConvStage(nn.Module):
    """``n`` 3×3×3 conv-norm-ReLU layers; with ``residual`` the input is added
    before the last ReLU (ResVNet)."""

    def __init__(self, n, cin, cout, norm='bn', residual=False):
        super().__init__()
        layers = []
        for i in range(n):
            layers += _conv_bn_relu(cin if i == 0 else cout, cout, norm)
        if residual:
            layers = layers[:-1]  # ReLU after the addition
        self.body = nn.Sequential(*layers)
        self.residual = residual
        self.skip = (nn.Conv3d(cin, cout, 1)
                     if residual and cin != cout else nn.Identity())
        self.relu = nn.ReLU(inplace=True) if residual else None

    def forward(self, x):
        y = self.body(x)
        if self.residual:
            y = self.relu(y + self.skip(x))
        return y


def _down(cin, cout, norm):
    layers = [nn.Conv3d(cin, cout, 2, stride=2)]
    if norm == 'bn':
        layers.append(nn.BatchNorm3d(cout))
    elif norm == 'in':
        layers.append(nn.InstanceNorm3d(cout, affine=True))
    return nn.Sequential(*layers, nn.ReLU(inplace=True))


def _up(cin, cout, norm):
    layers = [nn.ConvTranspose3d(cin, cout, 2, stride=2)]
    if norm == 'bn':
        layers.append(nn.BatchNorm3d(cout))
    elif norm == 'in':
        layers.append(nn.InstanceNorm3d(cout, affine=True))
    return nn.Sequential(*layers, nn.ReLU(inplace=True))


@MODELS.register_module()
class VNet(BaseModule):
    """V-Net returning per-voxel class logits ``(N, num_classes, X, Y, Z)``.

    Args:
        in_channels: image channels.
        num_classes: output classes (2 for tooth vs. background).
        base_channels: width of the first stage (16 in the papers); stage i
            has ``base_channels * 2**i``.
        norm: ``'bn'`` (papers), ``'in'`` or ``'none'``.
        residual: residual stages (the V-Net paper's; off in the
            semi-supervised code bases).
        dropout: 3D dropout after the bottleneck and before the last conv,
            as the semi-supervised code bases' ``has_dropout`` (0.5 there;
            0 = off).
    Inputs must be divisible by 16 in each spatial dimension.
    """

    def __init__(self, in_channels=1, num_classes=2, base_channels=16,
                 norm='bn', residual=False, dropout=0.0, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        c = [base_channels * 2**i for i in range(5)]
        n_convs = (1, 2, 3, 3, 3)
        self.enc = nn.ModuleList()
        self.down = nn.ModuleList()
        cin = in_channels
        for i in range(5):
            self.enc.append(ConvStage(n_convs[i], cin, c[i], norm, residual))
            if i < 4:
                self.down.append(_down(c[i], c[i + 1], norm))
            cin = c[i + 1] if i < 4 else c[i]
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for i in (3, 2, 1, 0):
            self.up.append(_up(c[i + 1], c[i], norm))
            self.dec.append(ConvStage(n_convs[i] if i > 0 else 1, c[i], c[i],
                                      norm, residual))
        self.dropout = nn.Dropout3d(dropout) if dropout > 0 else nn.Identity()
        self.out = nn.Conv3d(c[0], num_classes, 1)
        self.num_classes = num_classes

    def forward(self, x):
        skips = []
        for i in range(5):
            x = self.enc[i](x)
            if i < 4:
                skips.append(x)
                x = self.down[i](x)
        return self.decode(self.dropout(x), skips)

    def decode(self, x, skips):
        """Decoder from the bottleneck features and the four skips (fine
        to coarse) to logits."""
        for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
            x = dec(up(x) + skip)  # V-Net's additive skip connection
        return self.out(self.dropout(x))
