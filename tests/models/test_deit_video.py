"""DeiT video recognizers (TPS paper, Table 7) against timm and naive frame-by-frame references."""

import copy
from pathlib import Path

import pytest
import timm
import torch
from timm.models.vision_transformer import VisionTransformer

from videoshift.models import create_model, imagenet, load_checkpoint
from videoshift.models.complexity import count_macs, count_params
from videoshift.models.deit_video import DEIT_S_ARGS, DeiTVideo, PatchTokenShift, TokenChannelShift
from videoshift.models.papers import paper_setting

NAMES = ("deit_s_2d", "deit_s_tsm", "deit_s_tps")
# A 4 x 5 patch grid (non-square, not a multiple of the 3 x 3 pattern), 4 blocks, 2 heads.
TINY = {"img_size": (32, 40), "patch_size": 8, "embed_dim": 24, "depth": 4, "num_heads": 2}
GRID = (4, 5)
FRAMES = 4
# The released PST pattern ("official", pattern C), read from the released TPS code: source-frame offset
# o indexed by (h % 3, w % 3); out[t, h, w] <- x[(t + o) mod T].
OFFICIAL = [[4, -1, -2], [1, 0, -3], [2, 3, -4]]


def tiny_model(name: str, **kwargs) -> torch.nn.Module:
    torch.manual_seed(0)
    args = {"num_classes": 5, "num_frames": FRAMES, "dropout": 0.0, "drop_path_rate": 0.0, **TINY, **kwargs}
    return create_model(name, **args).eval()


def image_vit(model: torch.nn.Module) -> VisionTransformer:
    """A plain timm ViT of the tiny architecture carrying ``model``'s weights (no hooks)."""
    vit = VisionTransformer(num_classes=5, **TINY).eval()
    vit.load_state_dict(model.state_dict())
    return vit


def random_clip(batch: int = 2, frames: int = FRAMES, seed: int = 1) -> torch.Tensor:
    torch.manual_seed(seed)
    return torch.randn(batch, 3, frames, *TINY["img_size"])


def frame_tokens(vit: VisionTransformer, clip: torch.Tensor) -> list[torch.Tensor]:
    """Per frame: class token + patch tokens + position embedding, each (B, 1 + N, D)."""
    cls = vit.cls_token.expand(clip.shape[0], -1, -1)
    return [torch.cat((cls, vit.patch_embed(clip[:, :, t])), dim=1) + vit.pos_embed for t in range(clip.shape[2])]


def naive_patch_shift(frames: list[torch.Tensor], back: bool) -> list[torch.Tensor]:
    """Move patch tokens between frames one by one; the class token (index 0) stays."""
    num = len(frames)
    out = [f.clone() for f in frames]
    for t in range(num):
        for h in range(GRID[0]):
            for w in range(GRID[1]):
                src = (t + OFFICIAL[h % 3][w % 3]) % num
                n = 1 + h * GRID[1] + w
                if back:  # inverse permutation: the token taken from frame src returns there
                    out[src][:, n] = frames[t][:, n]
                else:
                    out[t][:, n] = frames[src][:, n]
    return out


def naive_channel_shift(frames: list[torch.Tensor], shift_div: int = 8) -> list[torch.Tensor]:
    """TSM on all tokens: first D/8 channels from t+1, next D/8 from t-1, zeros past the clip ends."""
    num, fold = len(frames), frames[0].shape[-1] // shift_div
    out = []
    for t in range(num):
        y = frames[t].clone()
        y[..., :fold] = frames[t + 1][..., :fold] if t + 1 < num else 0
        y[..., fold : 2 * fold] = frames[t - 1][..., fold : 2 * fold] if t > 0 else 0
        out.append(y)
    return out


def naive_logits(vit: VisionTransformer, clip: torch.Tensor, temporal: str) -> torch.Tensor:
    """Frame-by-frame reference of the three models: Block.forward written out with the shifts."""
    tokens = frame_tokens(vit, clip)
    for i, blk in enumerate(vit.blocks):
        y = [blk.norm1(z) for z in tokens]
        if temporal == "tps" and i % 2 == 1:
            y = naive_patch_shift(y, back=False)
        if temporal == "tsm":
            y = naive_channel_shift(y)
        y = [blk.attn(z) for z in y]
        if temporal == "tps" and i % 2 == 1:
            y = naive_patch_shift(y, back=True)
        tokens = [z + a for z, a in zip(tokens, y, strict=True)]
        tokens = [z + blk.mlp(blk.norm2(z)) for z in tokens]
    clip_feature = torch.stack([vit.norm(z)[:, 0] for z in tokens]).mean(dim=0)
    return vit.head(clip_feature)


@pytest.mark.parametrize(("name", "temporal"), [("deit_s_2d", "2d"), ("deit_s_tsm", "tsm"), ("deit_s_tps", "tps")])
@torch.no_grad()
def test_matches_naive_frame_by_frame_reference(name, temporal):
    model = tiny_model(name)
    clip = random_clip()
    torch.testing.assert_close(model(clip), naive_logits(image_vit(model), clip, temporal), rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_references_differ_so_the_comparison_has_teeth():
    model = tiny_model("deit_s_2d")
    vit, clip = image_vit(model), random_clip()
    logits = {t: naive_logits(vit, clip, t) for t in ("2d", "tsm", "tps")}
    assert not torch.allclose(logits["2d"], logits["tps"], atol=1e-4)
    assert not torch.allclose(logits["2d"], logits["tsm"], atol=1e-4)
    assert not torch.allclose(logits["tps"], logits["tsm"], atol=1e-4)


@torch.no_grad()
def test_2d_on_identical_frames_equals_timm_on_one_frame():
    model = tiny_model("deit_s_2d")
    image = random_clip(frames=1)[:, :, 0]
    clip = image.unsqueeze(2).expand(-1, -1, FRAMES, -1, -1)
    torch.testing.assert_close(model(clip), image_vit(model)(image), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("name", "order_matters"), [("deit_s_2d", False), ("deit_s_tsm", True), ("deit_s_tps", True)])
@torch.no_grad()
def test_temporal_order_matters_only_for_shifted_models(name, order_matters):
    model = tiny_model(name)
    clip = random_clip()
    same = torch.allclose(model(clip), model(clip.flip(2)), rtol=1e-5, atol=1e-5)
    assert same != order_matters


def test_tps_keeps_class_token_and_shift_back_inverts():
    op = PatchTokenShift(FRAMES, GRID, num_prefix_tokens=1, pattern="official")
    x = torch.randn(2 * FRAMES, 1 + GRID[0] * GRID[1], 6)
    shifted = op.shift(x)
    torch.testing.assert_close(shifted[:, 0], x[:, 0], rtol=0, atol=0)
    assert not torch.equal(shifted[:, 1:], x[:, 1:])
    torch.testing.assert_close(op.shift_back(shifted), x, rtol=0, atol=0)
    # the patch token at grid (0, 0) of frame 1 comes from frame (1 + 4) mod 4 = 1, at (0, 1) from frame 0
    per_clip = x.view(2, FRAMES, -1, 6)
    torch.testing.assert_close(shifted.view(2, FRAMES, -1, 6)[:, 1, 1], per_clip[:, 1, 1], rtol=0, atol=0)
    torch.testing.assert_close(shifted.view(2, FRAMES, -1, 6)[:, 1, 2], per_clip[:, 0, 2], rtol=0, atol=0)


def test_tsm_shifts_class_token_too():
    op = TokenChannelShift(FRAMES, shift_div=8)
    x = torch.randn(2 * FRAMES, 1 + GRID[0] * GRID[1], 16)
    frames = list(x.view(2, FRAMES, -1, 16).unbind(1))
    expected = torch.stack(naive_channel_shift(frames), dim=1).view_as(x)
    shifted = op.shift(x)
    torch.testing.assert_close(shifted, expected, rtol=0, atol=0)
    assert not torch.equal(shifted[:, 0], x[:, 0])


@pytest.mark.parametrize("name", NAMES)
def test_forward_backward_every_parameter_gets_a_gradient(name):
    model = tiny_model(name, drop_path_rate=0.1).train()
    logits = model(random_clip())
    assert logits.shape == (2, 5)
    assert torch.isfinite(logits).all()
    logits.square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


@pytest.mark.parametrize("name", NAMES)
def test_recognizer_contract(name):
    model = tiny_model(name)
    clip = random_clip()
    assert model.num_frames == FRAMES
    assert model.num_features == TINY["embed_dim"]
    assert model.no_weight_decay() == {"pos_embed", "cls_token"}
    assert model.head_keys == ("head",)
    features = model.forward_features(clip)
    assert features.shape == (2, FRAMES, 1 + GRID[0] * GRID[1], TINY["embed_dim"])
    assert model.forward_head(features, pre_logits=True).shape == (2, TINY["embed_dim"])
    model.reset_classifier(7)
    assert model(clip).shape == (2, 7)


@pytest.mark.parametrize("name", ["deit_s_tsm", "deit_s_tps"])
def test_shifted_models_reject_another_frame_count(name):
    with pytest.raises(ValueError, match="num_frames"):
        tiny_model(name)(random_clip(frames=FRAMES + 1))


def test_unknown_temporal_mode_and_pattern_raise():
    with pytest.raises(ValueError, match="temporal"):
        DeiTVideo(temporal="3d", **TINY)
    with pytest.raises(ValueError):
        tiny_model("deit_s_tps", pattern="no-such-pattern")


@pytest.fixture(scope="module")
def timm_deit_s() -> VisionTransformer:
    return timm.create_model("deit_small_patch16_224", pretrained=False, num_classes=400)


@pytest.mark.parametrize("name", NAMES)
def test_deit_s_keys_and_parameters_equal_timm(name, timm_deit_s):
    model, reference = create_model(name, num_classes=400), timm_deit_s
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert shapes == {k: v.shape for k, v in reference.state_dict().items()}
    model.load_state_dict(reference.state_dict())  # strict: ImageNet weights load unchanged
    # DeiT-S by hand: patch embed, class token, 197 positions, 12 blocks, final norm, 400-way head
    d, hidden = 384, 1536
    block = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * hidden + hidden) + (hidden * d + d)
    expected = (16 * 16 * 3 * d + d) + d + 197 * d + 12 * block + 2 * d + (d * 400 + 400)
    assert count_params(model) == count_params(reference) == expected == 21_819_664
    assert round(count_params(model) / 1e6) == paper_setting(name).params_m == 22


def test_pretrained_loads_timm_image_weights_with_resampled_positions(monkeypatch):
    def fake_create_model(model_name, pretrained, pretrained_cfg_overlay):  # timm loading DeiT-S at 224² from a file
        assert model_name == "deit_small_patch16_224.fb_in1k" and pretrained
        assert pretrained_cfg_overlay == {"file": f"/placed/{model_name}"}
        torch.manual_seed(123)
        return VisionTransformer(num_classes=1000, **DEIT_S_ARGS)

    monkeypatch.setattr(timm, "create_model", fake_create_model)
    monkeypatch.setattr(imagenet, "imagenet_file", lambda name: Path(f"/placed/{name}"))
    model = create_model("deit_s_tps", pretrained=True, num_classes=5, num_frames=2, img_size=112)
    image = fake_create_model(
        "deit_small_patch16_224.fb_in1k", True, {"file": "/placed/deit_small_patch16_224.fb_in1k"}
    )
    image = image.state_dict()
    for key, value in model.state_dict().items():
        if key == "pos_embed":  # 14x14 grid resampled to 7x7, class token's embedding kept
            assert value.shape == (1, 1 + 49, 384)
            torch.testing.assert_close(value[:, 0], image[key][:, 0], rtol=0, atol=0)
        elif not key.startswith("head."):
            torch.testing.assert_close(value, image[key], rtol=0, atol=0, msg=key)
    with pytest.raises(ValueError, match="standard architecture"):
        tiny_model("deit_s_tps", pretrained=True)


def test_imagenet_checkpoint_in_deit_release_format_loads_with_a_new_head():
    # the DeiT release stores {"model": state_dict} with timm's key names and a 1000-way head
    torch.manual_seed(7)
    image_model = VisionTransformer(num_classes=1000, **TINY)
    model = tiny_model("deit_s_tps")
    head_before = model.head.weight.clone()
    load_checkpoint(model, {"model": image_model.state_dict()})
    for key, value in image_model.state_dict().items():
        if not key.startswith("head."):
            torch.testing.assert_close(model.state_dict()[key], value, rtol=0, atol=0, msg=key)
    torch.testing.assert_close(model.head.weight, head_before, rtol=0, atol=0)


@pytest.mark.slow
@torch.no_grad()
def test_deit_s_multiply_adds_match_table7():
    clip = torch.zeros(1, 3, 16, 224, 224)
    macs = {name: count_macs(create_model(name, num_classes=400), clip) for name in ("deit_s_2d", "deit_s_tps")}
    assert macs["deit_s_2d"] == macs["deit_s_tps"]  # the shift is free
    assert abs(macs["deit_s_tps"] / 1e9 - paper_setting("deit_s_tps").gmacs) < 1.0


@torch.no_grad()
def test_deepcopy_rebinds_the_hooks_to_the_copy():
    # EMA and checkpoint averaging deep-copy models: the copy's hooks must use the copy's shift modules
    model = tiny_model("deit_s_tps")
    twin = copy.deepcopy(model)
    hooks = list(twin.blocks[1].attn._forward_pre_hooks.values())
    assert [h.args[0].__self__ for h in hooks] == [twin.blocks[1].temporal_shift]  # partial(apply, shift)
    clip = random_clip()
    torch.testing.assert_close(twin(clip), model(clip), rtol=0, atol=0)
