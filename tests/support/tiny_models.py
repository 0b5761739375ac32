"""The tiny setting of every registered model: one table for the shared model, export and visualisation tests.

Each family is built at a tiny size of the same code path (small widths, few frames, small frames).
"""

from __future__ import annotations

import torch

from videoshift.models import create_model

SWIN = {"embed_dim": 8, "depths": (2, 2, 2, 2), "num_heads": (1, 1, 2, 2), "rpe": "general", "drop_path_rate": 0.0}
DEIT = {"img_size": 32, "patch_size": 8, "embed_dim": 24, "depth": 2, "num_heads": 2, "drop_path_rate": 0.0}
RESNET = {"backbone": "resnet18"}
MBV2 = {"backbone": "mobilenetv2_050"}
# name -> (architecture overrides, clip (T, H, W))
TINY: dict[str, tuple[dict, tuple[int, int, int]]] = {
    **{name: (SWIN, (8, 64, 64)) for name in ("swin2d_t", "swin2d_b", "video_swin_t", "video_swin_b")},
    **{name: (SWIN, (8, 64, 64)) for name in ("pst_t", "pst_b", "pst_t_tw2", "pst_b_tw2")},
    **{name: (DEIT, (4, 32, 32)) for name in ("deit_s_2d", "deit_s_tsm", "deit_s_tps")},
    **{name: (RESNET, (4, 32, 32)) for name in ("tsn_r50", "tsm_r50", "stsm_r50", "tsm_r50_nl", "stsm_r50_nl")},
    **{name: (RESNET, (4, 32, 32)) for name in ("tanet_r50", "stsm_tanet_r50")},
    **{name: (RESNET, (20, 64, 64)) for name in ("tdn_r50", "stsm_tdn_r50")},  # 4 segments x 5 frames
    **{name: (MBV2, (4, 32, 32)) for name in ("tsn_mbv2", "tsm_mbv2", "stsm_mbv2")},
}
NUM_CLASSES = 5


def build(name: str) -> tuple[torch.nn.Module, torch.Tensor]:
    """The tiny model in eval mode, with random norm scales.

    timm zero-initialises the last norm of each residual branch; left so, no gradient would reach
    the convolutions before it, and the shifts inside the branch would be invisible.
    """
    overrides, (frames, height, width) = TINY[name]
    torch.manual_seed(0)
    model = create_model(name, num_classes=NUM_CLASSES, num_frames=frames, dropout=0.0, **overrides).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
    clip = torch.randn(2, 3, frames, height, width, generator=torch.Generator().manual_seed(1))
    return model, clip


def randomise_norms(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random affine parameters and statistics for every BatchNorm2d (in place; returns ``model``).

    timm zero-initialises the last norm of each residual branch, which hides the branch (and a shift inside it).
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5, generator=generator)
                module.bias.uniform_(-0.2, 0.2, generator=generator)
                module.running_mean.uniform_(-0.1, 0.1, generator=generator)
                module.running_var.uniform_(0.5, 1.5, generator=generator)
    return model
