"""Every Swin video model at a small size: contract, gradients, the Table 2 switches."""

import pytest
import torch

from videoshift.models import create_model, list_models, load_checkpoint
from videoshift.models.swin_video import ShiftSettings
from videoshift.models.swin_zoo import SWIN_MODELS

TINY = {"embed_dim": 8, "depths": (2, 2, 2, 2), "num_heads": (1, 1, 2, 2), "num_frames": 8, "num_classes": 7}


def tiny(name, **kwargs):
    return create_model(name, **{**TINY, "rpe": "general", **kwargs})


def test_every_swin_model_is_registered():
    assert set(SWIN_MODELS) <= set(list_models())
    assert set(SWIN_MODELS) >= {"swin2d_t", "swin2d_b", "video_swin_t", "video_swin_b"}
    assert set(SWIN_MODELS) >= {"pst_t", "pst_b", "pst_t_tw2", "pst_b_tw2"}


@pytest.mark.parametrize("name", SWIN_MODELS)
def test_forward_backward_and_reset_classifier(name):
    torch.manual_seed(0)
    model = tiny(name, drop_path_rate=0.1)
    clip = torch.randn(2, 3, 8, 64, 48)
    logits = model(clip)
    assert logits.shape == (2, 7) and torch.isfinite(logits).all()
    logits.logsumexp(-1).sum().backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert no_grad == []
    tokens = model.forward_features(clip)
    assert tokens.shape == (2, 4, 2, 2, model.num_features) and model.num_features == 64
    assert model.forward_head(tokens, pre_logits=True).shape == (2, 64)
    model.reset_classifier(3)
    assert model(clip).shape == (2, 3)
    model.reset_classifier(0)
    assert model(clip).shape == (2, 64)
    assert model.num_frames == 8 and model.head_keys == ("cls_head.fc_cls",)
    no_decay = model.no_weight_decay()
    assert len(no_decay) == 8 and all(n.endswith("relative_position_bias_table") for n in no_decay)
    assert no_decay <= dict(model.named_parameters()).keys()


def test_gradients_through_shifted_padded_tcs_and_tps_blocks_are_exact():
    torch.manual_seed(0)
    arch = {"embed_dim": 4, "depths": (2, 1), "num_heads": (1, 1), "window_size": (2, 3, 3), "channel_div": 2}
    model = tiny("pst_t_tw2", **arch).double().eval()
    tcs, tps = model.backbone.layers[0].blocks
    assert (tcs.kind, tps.kind, tps.shift_size) == ("tcs", "tps", (1, 1, 1))
    tokens = torch.randn(1, 3, 5, 4, 4, dtype=torch.double, requires_grad=True)  # padded on every axis
    assert torch.autograd.gradcheck(lambda t: tps(tcs(t)), (tokens,), fast_mode=True)


def test_any_frame_count_and_size_run_in_general_mode():
    model = tiny("pst_t_tw2").eval()
    for frames, size in [(8, 64), (6, 50), (3, 33), (20, 64)]:
        with torch.no_grad():
            out = model(torch.randn(1, 3, frames, size, size))
        assert out.shape == (1, 7) and torch.isfinite(out).all()


def test_engine_tiny_config_trains_on_small_clips():
    model = create_model(
        "pst_t", embed_dim=32, depths=(1, 1, 2, 1), num_heads=(1, 2, 4, 8), num_frames=8, rpe="general", num_classes=12
    )
    decay = [p for n, p in model.named_parameters() if n not in model.no_weight_decay()]
    rest = [p for n, p in model.named_parameters() if n in model.no_weight_decay()]
    optimizer = torch.optim.AdamW([{"params": decay}, {"params": rest, "weight_decay": 0.0}], lr=1e-3)
    clip, label = torch.randn(2, 3, 8, 64, 64), torch.tensor([3, 7])
    loss = torch.nn.functional.cross_entropy(model(clip), label)
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss) and loss.item() == pytest.approx(2.4849, abs=0.1)  # ~log(12) at init
    assert [b.kind for b in model.backbone.layers[2].blocks] == ["tcs", "tps"]


def test_int_window_and_patch_set_the_spatial_size():
    model = tiny("video_swin_t", window_size=5, patch_size=2)
    assert model.backbone.window_size == (8, 5, 5) and model.backbone.patch_size == (2, 2, 2)


def test_block_kinds_follow_the_table_2_switches():
    def names(**kw):
        settings = ShiftSettings(**kw)
        return [[settings.block_kind(s, i) for i in range(2)] for s in range(4)]

    assert names(mixing="pst") == [["tcs", "tps"]] * 4
    assert names(mixing="patch") == [["plain", "tps"]] * 4
    assert names(mixing="channel") == [["tcs", "tcs"]] * 4
    assert names(mixing="none") == [["plain", "plain"]] * 4
    assert names(mixing="patch", alternate=False) == [["tps", "tps"]] * 4
    assert names(mixing="pst", tps_stages=(0,)) == [["tcs", "tps"]] + [["tcs", "plain"]] * 3
    assert names(mixing="patch", tps_stages=(1, 2))[0] == ["plain", "plain"]
    with pytest.raises(ValueError, match="mixing"):
        ShiftSettings(mixing="spatial")


def test_models_wire_the_switches_into_blocks():
    model = tiny("pst_t", mixing="patch", tps_stages=(0, 1), alternate=False)
    kinds = [[b.kind for b in layer.blocks] for layer in model.backbone.layers]
    assert kinds == [["tps", "tps"], ["tps", "tps"], ["plain", "plain"], ["plain", "plain"]]
    shifts = [b.shift_size for b in model.backbone.layers[0].blocks]
    assert shifts == [(0, 0, 0), (0, 3, 3)]
    video = tiny("video_swin_t")
    assert [b.shift_size for b in video.backbone.layers[0].blocks] == [(0, 0, 0), (4, 3, 3)]


def _same_weights(model, reference):
    model.load_state_dict(reference.state_dict())
    return model.eval()


def test_each_switch_changes_the_output():
    torch.manual_seed(0)
    clip = torch.randn(1, 3, 8, 56, 56)
    reference = tiny("pst_t", mixing="patch").eval()
    with torch.no_grad():
        base = reference(clip)
        for kw in [{"shift_back": False}, {"shift_rpe": False}, {"shift_pattern": "A"}, {"tps_stages": (0,)}]:
            changed = _same_weights(tiny("pst_t", mixing="patch", **kw), reference)(clip)
            assert not torch.allclose(changed, base, atol=1e-5), kw


def test_shifts_are_no_ops_on_a_clip_of_identical_frames():
    """TCS and TPS only move tokens/channels in time: identical frames make PST a per-frame Swin."""
    torch.manual_seed(0)
    clip = torch.randn(1, 3, 1, 56, 56).expand(1, 3, 8, 56, 56)
    swin2d = tiny("swin2d_t").eval()
    pst = tiny("pst_t", shift_rpe=False).eval()
    load_checkpoint(pst, swin2d.state_dict())  # the same weights, bias tables repeated over time offsets
    with torch.no_grad():
        torch.testing.assert_close(pst(clip), swin2d(clip), atol=1e-5, rtol=1e-5)


def test_frame_order_reaches_the_output_at_initialisation():
    # Why joint 3D attention learns frame order slowly from scratch while PST does not (README, built-in job):
    # a 2D Swin with average pooling is order-blind by construction; joint 3D windows see order only through the
    # temporal part of a small random relative-position bias; PST's channel and patch shifts mix frames at once.
    kwargs = dict(embed_dim=48, depths=[2, 2], num_heads=[2, 4], patch_size=[1, 4, 4], rpe="general")
    clip = torch.randn(2, 3, 8, 32, 32)
    change = {}
    for name, window in (("swin2d_t", [1, 4, 4]), ("video_swin_t", [8, 4, 4]), ("pst_t", [1, 4, 4])):
        torch.manual_seed(0)
        model = create_model(name, num_classes=12, num_frames=8, window_size=window, **kwargs).eval()
        with torch.no_grad():
            logits = model(clip)
            change[name] = (logits - model(clip.flip(2))).abs().max() / logits.std()
    assert change["swin2d_t"] < 1e-5
    assert change["pst_t"] > 50 * change["video_swin_t"] > 0
