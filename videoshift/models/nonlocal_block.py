"""Non-local block (Wang et al., "Non-local Neural Networks") for 2D CNNs on folded frames.

TSM+NL (the TSM repository and MMAction2's ``ResNetTSM``) inserts a 3D non-local block after some
ResNet bottlenecks: every position of every frame of a clip attends to all positions of all frames.
This module computes exactly that, but works on the folded ``(B*T, C, H, W)`` layout of the 2D
recognizers, so no 5D tensors or 3D convolutions are needed: a 1×1×1 Conv3d is a 1×1 Conv2d applied
per frame, the (1, 2, 2) max-pool of ``sub_sample`` is a 2×2 Conv2d-layout max-pool per frame, and
BatchNorm statistics over (B, T, H, W) are the same in both layouts. Checkpoints of the 3D layout are
converted by dropping the unit time axis of the kernels (see :mod:`videoshift.models.cnn_weights`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

NON_LOCAL_MODES = ("embedded_gaussian", "dot_product")


class NonLocal(nn.Module):
    """Residual non-local block over all T·H·W positions of each clip.

    ``out = x + BN(W_out · Σ_j f(θ(x_i), φ(x_j)) g(x_j))`` with 1×1 convolutions θ, φ, g to
    ``channels // reduction`` channels. ``embedded_gaussian``: f = softmax over j of θ·φ (no
    1/√d scale, as TSM and MMAction2's TSM+NL configs); ``dot_product``: f = θ·φ / (number of keys).
    ``sub_sample`` max-pools φ and g by 2×2 per frame, so there are four times fewer keys.
    The output BatchNorm starts at zero scale, so a new block is the identity.

    Args:
        channels: channels of the feature map (the residual block's output channels).
        num_frames: frames per clip in the folded batch.
        mode: the pairwise function, one of ``NON_LOCAL_MODES``.
        sub_sample: pool keys/values 2×2 spatially.
        reduction: channel reduction of the embeddings.
    """

    def __init__(
        self,
        channels: int,
        num_frames: int,
        *,
        mode: str = "embedded_gaussian",
        sub_sample: bool = True,
        reduction: int = 2,
    ) -> None:
        super().__init__()
        if mode not in NON_LOCAL_MODES:
            raise ValueError(f"non-local mode must be one of {NON_LOCAL_MODES}, got {mode!r}")
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        inner = max(channels // reduction, 1)
        self.num_frames = num_frames
        self.mode = mode
        self.sub_sample = sub_sample
        self.theta = nn.Conv2d(channels, inner, 1)
        self.phi = nn.Conv2d(channels, inner, 1)
        self.g = nn.Conv2d(channels, inner, 1)
        self.out_conv = nn.Conv2d(inner, channels, 1, bias=False)
        self.out_norm = nn.BatchNorm2d(channels)
        for conv in (self.theta, self.phi, self.g):
            nn.init.normal_(conv.weight, std=0.01)
            nn.init.zeros_(conv.bias)
        nn.init.normal_(self.out_conv.weight, std=0.01)
        nn.init.zeros_(self.out_norm.weight)
        nn.init.zeros_(self.out_norm.bias)

    def extra_repr(self) -> str:
        return f"num_frames={self.num_frames}, mode={self.mode!r}, sub_sample={self.sub_sample}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block to folded frames ``(B*T, C, H, W)``; returns the same shape."""
        bt, _, height, width = x.shape
        t = self.num_frames
        if bt % t:
            raise ValueError(f"batch of {bt} frames is not a multiple of num_frames={t}")
        b = bt // t
        query = self.theta(x)
        key, value = self.phi(x), self.g(x)
        if self.sub_sample:
            key, value = F.max_pool2d(key, 2), F.max_pool2d(value, 2)
        inner = query.shape[1]
        # (B*T, C', h, w) -> (B, T*h*w, C'): one sequence of positions per clip
        query = query.view(b, t, inner, -1).transpose(2, 3).reshape(b, -1, inner)
        key = key.view(b, t, inner, -1).transpose(1, 2).reshape(b, inner, -1)  # (B, C', T*h'*w')
        value = value.view(b, t, inner, -1).transpose(2, 3).reshape(b, -1, inner)  # (B, T*h'*w', C')
        affinity = query @ key  # (B, N, M)
        # embedded Gaussian: softmax over the keys; dot product: divided by the number of keys
        affinity = affinity.softmax(dim=-1) if self.mode == "embedded_gaussian" else affinity / affinity.shape[-1]
        y = affinity @ value  # (B, N, C')
        y = y.view(b, t, height * width, inner).transpose(2, 3).reshape(bt, inner, height, width)
        return x + self.out_norm(self.out_conv(y))
