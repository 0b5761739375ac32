"""TANet and STSM+TANet: ResNet-50 with a Temporal Adaptive Module (TAM) in every bottleneck, as in MMAction2.

TANet (Liu et al., ICCV 2021) puts a TAM after the first convolution (with its BatchNorm and ReLU) of all 16
bottlenecks of ResNet-50. A TAM pools every frame's feature map to one value per channel, ``(N, C, T)``, and
from these frame descriptors learns two things:

- a **local** branch ``L``: ``Conv1d(C, C/β, 3) → BN1d → ReLU → Conv1d(C/β, C, 1) → Sigmoid``, one gate per
  frame and channel, which rescales the features (``x · L(x)``);
- a **global** branch ``G``: per (clip, channel), ``Linear(T, αT) → BN1d → ReLU → Linear(αT, K) → Softmax``,
  a temporal kernel of size ``K`` that sums up to one. The gated features are convolved over time with that
  kernel, channel by channel and clip by clip (a grouped convolution, zero padding ``K // 2``).

``α = 2, β = 4, K = 3``, as MMAction2's defaults. ``G`` is a ``Linear`` over the frames, so a TANet only runs
clips of the number of frames it was built for.

The recognizer is :class:`~videoshift.models.shift_cnn.ShiftCNN` (timm's ResNet-50 per frame, frame-consensus
head) with the TAM registered as a child ``tam`` of each bottleneck and called from a forward pre-hook on the
block's ``conv2``, so timm's backbone keys stay; ``stsm_tanet_r50`` adds the STSM shift before ``conv1`` of each
block, as the STSM paper does. MMAction2 checkpoints (``backbone.layerI.J.block.convK.conv.*``,
``…block.convK.bn.*``, ``…tam.{G,L}.*``, ``cls_head.fc_cls.*``) load through the shift CNNs' converter.
"""

from __future__ import annotations

import re
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from videoshift.models.checkpoint import CheckpointError
from videoshift.models.hooks import run_before
from videoshift.models.registry import register_model
from videoshift.models.shift_cnn import ShiftCNN, ShiftFactory, _stsm, residual_stages
from videoshift.ops.temporal import split_frames
from videoshift.paper_defaults import STSM_ALPHA, STSM_DIMS, TANET_ALPHA, TANET_BETA, TANET_KERNEL

# TAM's local branch in MMAction2 before its BatchNorm was added: L = Conv1d, ReLU, Conv1d, Sigmoid.
_OLD_LOCAL_BRANCH = re.compile(r"\.tam\.L\.2\.weight$")


class TAM(nn.Module):
    """Temporal Adaptive Module on CNN features ``(N*T, C, H, W)`` (clips of ``num_frames`` consecutive frames).

    Args:
        channels: ``C``.
        num_frames: ``T``; the global branch's first ``Linear`` has ``T`` inputs.
        alpha: the global branch's hidden width is ``alpha * T``.
        beta: the local branch's hidden width is ``C // beta``.
        kernel_size: ``K``, the length of the learned temporal kernel.
        local_kernel_size: temporal kernel of the local branch's first ``Conv1d``.
    """

    def __init__(
        self,
        channels: int,
        num_frames: int,
        *,
        alpha: int = TANET_ALPHA,
        beta: int = TANET_BETA,
        kernel_size: int = TANET_KERNEL,
        local_kernel_size: int = 3,
    ) -> None:
        super().__init__()
        if num_frames < 1 or alpha < 1 or beta < 1 or kernel_size % 2 == 0 or local_kernel_size % 2 == 0:
            raise ValueError(
                "TAM needs num_frames, alpha, beta >= 1 and odd kernel sizes, got "
                f"num_frames={num_frames}, alpha={alpha}, beta={beta}, kernel_size={kernel_size}, "
                f"local_kernel_size={local_kernel_size}"
            )
        self.num_frames = num_frames
        self.kernel_size = kernel_size
        hidden = channels // beta
        self.G = nn.Sequential(
            nn.Linear(num_frames, num_frames * alpha, bias=False),
            nn.BatchNorm1d(num_frames * alpha),
            nn.ReLU(inplace=True),
            nn.Linear(num_frames * alpha, kernel_size, bias=False),
            nn.Softmax(dim=-1),
        )
        self.L = nn.Sequential(
            nn.Conv1d(channels, hidden, local_kernel_size, padding=local_kernel_size // 2, bias=False),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv1d(hidden, channels, 1, bias=False),
            nn.Sigmoid(),
        )

    def extra_repr(self) -> str:
        return f"num_frames={self.num_frames}, kernel_size={self.kernel_size}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames = split_frames(x, self.num_frames)  # (N, T, C, H, W)
        n, t, c, h, w = frames.shape
        descriptors = frames.mean(dim=(3, 4)).transpose(1, 2)  # (N, C, T)
        kernels = self.G(descriptors.reshape(n * c, t))  # (N*C, K), one kernel per clip and channel
        gates = self.L(descriptors)  # (N, C, T)
        gated = frames.transpose(1, 2) * gates[..., None, None]  # (N, C, T, H, W)
        out = F.conv2d(  # every (clip, channel) is a group, convolved over T with its own kernel
            gated.reshape(1, n * c, t, h * w),
            kernels.view(n * c, 1, self.kernel_size, 1),
            padding=(self.kernel_size // 2, 0),
            groups=n * c,
        )
        return out.view(n, c, t, h, w).transpose(1, 2).reshape(n * t, c, h, w)


class TANet(ShiftCNN):
    """ShiftCNN on a ResNet with a TAM after the first conv (+BN+ReLU) of every bottleneck.

    Args:
        backbone: a timm ResNet (``resnet50``; ``resnet18``-style BasicBlocks work the same way).
        tam: keyword arguments of :class:`TAM` (``alpha``, ``beta``, ``kernel_size``).
        **kwargs: :class:`ShiftCNN`'s (``num_classes``, ``num_frames``, ``shift_layer``, ``dropout``, …).
    """

    not_in_imagenet = re.compile(r"^non_local\.|\.tam\.")
    mixes_frames = True  # every bottleneck's TAM mixes frames

    def __init__(self, backbone: str = "resnet50", *, tam: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if kwargs.get("temporal_pool") or kwargs.get("non_local"):
            raise ValueError("TANet has no temporal pooling or non-local blocks")
        super().__init__(backbone, **kwargs)
        if not hasattr(self.backbone, "layer4"):
            raise ValueError(f"TANet needs a timm ResNet backbone, got backbone={backbone!r}")
        for stage in residual_stages(self.backbone):
            for _, block in stage:
                block.tam = TAM(block.conv1.out_channels, self.num_frames, **(tam or {}))
                run_before(block.conv2, block.tam)

    def _wrong_frames_message(self, t: int) -> str:
        return (
            f"clip has {t} frames but this TANet was built with num_frames={self.num_frames}: the global branch G "
            f"of every TAM is a Linear over exactly {self.num_frames} frames (create the model with num_frames={t}, "
            f"which needs weights trained for it, or sample {self.num_frames} frames)"
        )

    def checkpoint_filter(self, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """MMAction2 TANet checkpoints (and the shift CNNs' other formats) to this model's keys."""
        old = sorted(k for k in state_dict if _OLD_LOCAL_BRANCH.search(k))
        if old:
            raise CheckpointError(
                "checkpoint is from an older MMAction2 TANet whose TAM local branch L has no BatchNorm "
                f"(L = Conv1d, ReLU, Conv1d, Sigmoid: keys such as {old[0]}); this TAM follows the current "
                "MMAction2 (L = Conv1d, BatchNorm1d, ReLU, Conv1d, Sigmoid: L.0, L.1, L.3) and cannot load it"
            )
        return super().checkpoint_filter(state_dict)


@register_model(kwargs_to=(TANet,))
def tanet_r50(backbone: str = "resnet50", **kwargs: Any) -> TANet:
    """TANet: ResNet-50 with a TAM (α 2, β 4, K 3) in every bottleneck (MMAction2's TANet)."""
    return TANet(backbone, **kwargs)


@register_model(kwargs_to=(TANet,))
def stsm_tanet_r50(
    backbone: str = "resnet50", alpha: float = STSM_ALPHA, dims: str = STSM_DIMS, **kwargs: Any
) -> TANet:
    """STSM+TANet: TANet with the spatio-temporal shift before the first conv of every bottleneck."""
    shift: ShiftFactory | None = _stsm(alpha, dims)
    return TANet(backbone, shift_layer=shift, **kwargs)
