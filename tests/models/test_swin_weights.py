"""2D ImageNet Swin inflation (official and timm layouts) and fitting of video checkpoints."""

import re
from pathlib import Path

import pytest
import timm
import torch

from videoshift.models import CheckpointError, create_model, imagenet, load_checkpoint
from videoshift.models.swin_weights import fit_bias_table

ARCH = {"embed_dim": 32, "depths": (2, 2, 2, 2), "num_heads": (1, 2, 4, 8)}


@pytest.fixture(scope="module")
def timm_swin():
    """A small timm Swin (random weights, perturbed so every tensor matters) in eval mode."""
    torch.manual_seed(0)
    model = timm.create_model("swin_tiny_patch4_window7_224", pretrained=False, num_classes=10, **ARCH).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.add_(torch.randn_like(p) * (0.5 if "relative_position" in name else 0.05))
    return model


def to_official_layout(state):
    """timm's Swin keys → the official Swin release's (downsample ends a stage, ``head.*``, 2D buffers)."""
    out = {}
    for key, value in state.items():
        if match := re.match(r"layers\.(\d+)\.downsample\.(.*)", key):
            key = f"layers.{int(match.group(1)) - 1}.downsample.{match.group(2)}"
        out[key.replace("head.fc.", "head.")] = value
        if key.endswith("relative_position_bias_table"):
            out[key.replace("bias_table", "index")] = torch.zeros(49, 49, dtype=torch.int64)
    out["layers.0.blocks.1.attn_mask"] = torch.zeros(64, 49, 49)
    return {"model": out}


@pytest.mark.parametrize("layout", ["timm", "official"])
def test_inflated_swin2d_gives_timm_features_per_frame(timm_swin, layout):
    state = timm_swin.state_dict() if layout == "timm" else to_official_layout(timm_swin.state_dict())
    model = create_model("swin2d_t", num_frames=4, **ARCH).eval()
    report = load_checkpoint(model, state)
    assert report.skipped_head == ["cls_head.fc_cls.weight", "cls_head.fc_cls.bias"]
    torch.manual_seed(1)
    images = torch.randn(2, 3, 224, 224)
    clip = images[:, :, None].expand(2, 3, 4, 224, 224)  # every frame the same image
    with torch.no_grad():
        expected = timm_swin.forward_features(images)  # (B, 7, 7, C)
        tokens = model.forward_features(clip)  # (B, 2, 7, 7, C)
    assert tokens.shape == (2, 2, 7, 7, 256)
    for t in range(2):
        torch.testing.assert_close(tokens[:, t], expected, atol=1e-4, rtol=1e-4)


def test_inflation_repeats_kernels_and_bias_tables_over_time(timm_swin):
    state = timm_swin.state_dict()
    model = create_model("pst_t", num_frames=8, rpe="general", **ARCH)
    load_checkpoint(model, state)
    kernel = model.backbone.patch_embed.proj.weight
    assert kernel.shape == (32, 3, 2, 4, 4)
    torch.testing.assert_close(kernel[:, :, 0] * 2, state["patch_embed.proj.weight"])
    torch.testing.assert_close(kernel[:, :, 1], kernel[:, :, 0])
    table = model.backbone.layers[1].blocks[0].attn.relative_position_bias_table  # 4 tokens: 7 offsets
    assert table.shape == (7 * 169, 2)
    table_2d = state["layers.1.blocks.0.attn.relative_position_bias_table"]
    for d in range(7):
        torch.testing.assert_close(table[d * 169 : (d + 1) * 169], table_2d)
    downsample = model.backbone.layers[0].downsample.reduction.weight  # timm: start of stage 1
    torch.testing.assert_close(downsample, state["layers.1.downsample.reduction.weight"])


def test_bias_table_fitting_keeps_the_meaning_of_temporal_offsets():
    video = torch.arange(5 * 4, dtype=torch.float32).view(5 * 4, 1)  # 5 temporal offsets (-2..2), 4 spatial
    cropped = fit_bias_table(video, torch.Size([3 * 4, 1]), (2, 2), from_2d=False)
    torch.testing.assert_close(cropped, video[4:16])  # offsets -1..1
    padded = fit_bias_table(video, torch.Size([7 * 4, 1]), (2, 2), from_2d=False)
    torch.testing.assert_close(padded.view(7, 4)[[0, 1, 6]], video.view(5, 4)[[0, 0, 4]])
    torch.testing.assert_close(padded.view(7, 4)[1:6], video.view(5, 4))
    square = torch.randn(9, 2)  # a 2D table of a 2x2 window, resized to 3x3 offsets (5x5) then repeated
    resized = fit_bias_table(square, torch.Size([3 * 25, 2]), (5, 5), from_2d=True)
    assert resized.shape == (75, 2)
    torch.testing.assert_close(resized[:25], resized[50:])
    with pytest.raises(CheckpointError, match="heads"):
        fit_bias_table(video, torch.Size([12, 3]), (2, 2), from_2d=False)


def test_video_checkpoints_move_between_rpe_modes_and_frame_counts():
    torch.manual_seed(0)
    arch = {"embed_dim": 16, "depths": (2, 2, 2, 2), "num_heads": (1, 2, 2, 4)}
    released = create_model("pst_t", **arch)
    state = released.state_dict()  # official keys: tables of 31 temporal offsets, index buffers
    general = create_model("pst_t", num_frames=8, rpe="general", **arch)
    load_checkpoint(general, {f"module.{k}": v for k, v in state.items()})  # DDP prefix too
    key = "backbone.layers.2.blocks.1.attn.relative_position_bias_table"
    torch.testing.assert_close(general.state_dict()[key], state[key][12 * 169 : 19 * 169])  # offsets -3..3
    assert not any("relative_position_index" in k for k in general.state_dict())
    bare = {k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")}
    load_checkpoint(released, bare)  # a backbone-only checkpoint without prefix
    with pytest.raises(CheckpointError, match="missing keys"):
        load_checkpoint(released, {k: v for k, v in state.items() if "norm1" not in k})


def test_pretrained_inflates_timm_imagenet_weights(monkeypatch):
    calls = []
    build = timm.create_model

    def fake_create_model(name, pretrained, pretrained_cfg_overlay):
        calls.append((name, pretrained, pretrained_cfg_overlay))
        return build(name, pretrained=False)  # what timm would return, without the download

    monkeypatch.setattr(timm, "create_model", fake_create_model)
    monkeypatch.setattr(imagenet, "imagenet_file", lambda name: Path(f"/placed/{name}"))
    model = create_model("swin2d_t", pretrained=True, num_frames=4)
    name = "swin_tiny_patch4_window7_224.ms_in1k"
    assert calls == [(name, True, {"file": f"/placed/{name}"})]
    assert model.backbone.layers[3].blocks[1].attn.relative_position_bias_table.shape == (169, 24)
    with pytest.raises(ValueError, match="standard architecture"):
        create_model("pst_t", pretrained=True, embed_dim=48)
