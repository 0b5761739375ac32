"""Grad-CAM: the hook-based maps against a hand computation, every registered model, bad input."""

from __future__ import annotations

import pytest
import torch
from tiny_models import NUM_CLASSES, TINY, build

from videoshift.models import create_model
from videoshift.models.shift_cnn import ShiftCNN
from videoshift.viz.gradcam import class_index, explain, grad_cam, normalise_cam, upsample_cam


def hand_grad_cam(activation: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """Grad-CAM from first principles: a ``(C, T', h, w)`` map and the class score's gradient w.r.t. it."""
    weights = grad.mean(dim=(1, 2, 3))  # averaged over the map's positions
    return torch.relu((weights[:, None, None, None] * activation).sum(dim=0))


@pytest.mark.parametrize("name", ["tsm_r50", "stsm_mbv2", "video_swin_t", "pst_t"])
def test_hooks_match_a_hand_computed_grad_cam_on_forward_features(name):
    model, clip = build(name)
    clip = torch.nn.functional.interpolate(clip[:1], size=(clip.shape[2], 96, 96))  # maps of 2x2 tokens or more
    features = model.forward_features(clip)
    logits = model.forward_head(features)[0]
    for target in logits.argsort(descending=True)[1:].tolist():  # not the top-1 default: the target is honoured
        (grad,) = torch.autograd.grad(logits[target], features, retain_graph=True)
        if name.startswith(("video_swin", "pst")):  # channels-last tokens (B, T', H', W', C)
            expected = hand_grad_cam(features[0].permute(3, 0, 1, 2), grad[0].permute(3, 0, 1, 2))
        else:  # (B, F, T', h, w)
            expected = hand_grad_cam(features[0], grad[0])
        if expected.sum() > 0:
            break
    result = explain(model, clip, target)
    assert result.target == target and expected.sum() > 0 and expected.shape[1] * expected.shape[2] >= 4
    torch.testing.assert_close(result.raw, expected.detach(), rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(result.cam, normalise_cam(upsample_cam(expected.detach(), clip.shape[2:])))


@pytest.mark.parametrize("name", ["deit_s_2d", "deit_s_tps"])
def test_hooks_match_a_hand_computed_grad_cam_on_deit_patch_tokens(name):
    model, clip = build(name)
    clip = clip[:1]
    caught = {}
    handle = model.blocks[-1].norm1.register_forward_hook(lambda _m, _i, out: caught.setdefault("tokens", out))
    logits = model(clip)[0]
    handle.remove()
    tokens = caught["tokens"]  # (T, 1 + N, D)
    h, w = model.patch_embed.grid_size
    target = 2
    (grad,) = torch.autograd.grad(logits[target], tokens)
    patches = tokens[:, 1:].reshape(clip.shape[2], h, w, -1).detach()
    weights = grad[:, 1:].mean(dim=(0, 1))
    expected = torch.relu((patches * weights).sum(-1))
    torch.testing.assert_close(explain(model, clip, target).raw, expected, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("name", sorted(TINY))
def test_grad_cam_runs_on_every_registered_model(name):
    model, clip = build(name)
    model.train()
    cam = grad_cam(model, clip[0])
    frames, height, width = clip.shape[2:]
    assert cam.shape == (frames, height, width)
    assert torch.isfinite(cam).all() and cam.min() >= 0 and cam.max() == 1
    assert model.training  # the mode is restored
    assert all(p.grad is None for p in model.parameters())  # no parameter gradient is left behind
    assert explain(model, clip[0]).target == int(model.eval()(clip[:1]).argmax())


def test_time_is_mapped_to_feature_frames():
    raw = torch.arange(4, dtype=torch.float32)[:, None, None].expand(4, 2, 2)  # 4 feature frames (a TDN: 4 segments)
    up = upsample_cam(raw, (20, 8, 8))
    assert up.shape == (20, 8, 8)
    assert up[:, 0, 0].tolist() == [float(t // 5) for t in range(20)]  # 5 frames per segment
    swin = upsample_cam(raw, (8, 4, 4))
    assert swin[:, 0, 0].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]  # patch embedding: two frames per token


def test_a_clip_too_short_for_the_model_is_named():
    model, clip = build("tsm_r50")
    with pytest.raises(ValueError, match=r"clip has 2 frames .* num_frames=4"):
        grad_cam(model, clip[0, :, :2])
    with pytest.raises(ValueError, match="one clip"):
        grad_cam(model, clip)  # a batch of two


def test_a_target_outside_the_classes_is_named():
    model, clip = build("tsn_mbv2")
    with pytest.raises(ValueError, match=f"class 7 is outside the model's {NUM_CLASSES} classes"):
        grad_cam(model, clip[0], 7)


def test_a_model_without_known_feature_maps_is_named():
    model = torch.nn.Conv3d(3, 2, 1)
    model.num_frames = 4
    with pytest.raises(ValueError, match="Conv3d"):
        grad_cam(model, torch.zeros(3, 4, 8, 8))


def test_class_names_and_ids():
    names = ["moving right", "moving left", "brightening"]
    assert class_index(None, names, 3) is None
    assert class_index("moving left", names, 3) == 1
    assert class_index("Brightening", names, 3) == 2
    assert class_index("2", names, 3) == 2 and class_index(0, None, 3) == 0
    with pytest.raises(ValueError, match="unknown class 'jumping'; classes: moving right"):
        class_index("jumping", names, 3)
    with pytest.raises(ValueError, match=r"class id 5 is outside \[0, 3\)"):
        class_index("5", names, 3)


def test_frozen_models_still_get_maps():
    torch.manual_seed(0)
    model = create_model("tsn_mbv2", backbone="mobilenetv2_050", num_classes=3, num_frames=2, dropout=0.0)
    model.requires_grad_(False)
    assert grad_cam(model, torch.randn(3, 2, 32, 32)).shape == (2, 32, 32)


class ClipAsFeatures(ShiftCNN):
    """A TSN whose feature map is its input clip, so the map Grad-CAM weighs is written by hand.

    The head is the real one (spatial mean, a linear classifier per frame, mean over frames), so the class score
    is linear in the map: ``S = mean_{t,h,w} fc.weight[target] · A[:, t, h, w]``.
    """

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        self.check_clip(x)
        return x


def test_the_map_is_normalised_over_the_clip_not_per_frame():
    model = ClipAsFeatures("mobilenetv2_050", num_classes=2, num_frames=2, dropout=0.0)
    model.num_features = 3
    model.reset_classifier(2)
    with torch.no_grad():
        model.head.fc.weight.copy_(torch.tensor([[1.0, -1.0, 0.5], [0.0, 1.0, 0.0]]))
        model.head.fc.bias.zero_()
    # (C=3, T=2, 2, 2); class 0 weighs the channels 1, -1, 0.5: frame 0 sums to [[4, 4], [-1, 16]], frame 1 to
    # [[1, -1], [2, 1]], so frame 1's evidence is an eighth of frame 0's peak.
    clip = torch.tensor(
        [
            [[[4.0, 2.0], [0.0, 14.0]], [[1.0, 0.0], [2.0, 0.0]]],
            [[[0.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]],
            [[[0.0, 4.0], [0.0, 4.0]], [[0.0, 0.0], [0.0, 2.0]]],
        ]
    )
    result = explain(model, clip, target=0)
    # each channel's weight is its classifier weight over the 2 x 2 x 2 positions the score averages
    expected_raw = torch.tensor([[[4.0, 4.0], [0.0, 16.0]], [[1.0, 0.0], [2.0, 1.0]]]) / 8
    assert torch.equal(result.raw, expected_raw)
    # one scale for the clip: frame 1 keeps its 1/8 of the clip's peak (per frame, its own peak would be 1)
    expected_cam = torch.tensor([[[0.25, 0.25], [0.0, 1.0]], [[0.0625, 0.0], [0.125, 0.0625]]])
    assert torch.equal(result.cam, expected_cam)
    assert result.cam[1].max() == 0.125
