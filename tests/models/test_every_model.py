"""One parametrised check over every registered model: the recognizer contract end to end.

Each family is built at a tiny size of the same code path (small widths, few frames, small
frames); a registered model missing from ``TINY`` fails the coverage test, so new models are
checked from the day they are registered.
"""

from __future__ import annotations

import pytest
import torch
from tiny_models import NUM_CLASSES, TINY, build

from videoshift.models import create_model, list_models
from videoshift.models.contract import FAMILIES, CamLayer, Recognizer


def test_every_registered_model_has_a_tiny_setting():
    assert sorted(TINY) == list_models()


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_model_is_a_recognizer(name):
    model, clip = build(name)
    assert isinstance(model, Recognizer)
    assert model.num_frames == clip.shape[2] and model.forward_head(model.forward_features(clip), True).shape == (
        clip.shape[0],
        model.num_features,
    )


@pytest.mark.parametrize("name", sorted(TINY))
def test_mixes_frames_says_whether_frame_order_reaches_the_logits(name):
    """The contract's ``mixes_frames`` against what the model does: a model that never mixes frames before its
    temporal average gives the same logits for the frames in any order, one that mixes them does not."""
    model, clip = build(name)
    model.eval()
    order = torch.arange(clip.shape[2])
    order[:2] = torch.tensor([1, 0])  # swap two frames: not a roll, which cyclic patch shifts would commute with
    with torch.no_grad():
        logits, reordered = model(clip), model(clip[:, :, order])
    order_matters = not torch.allclose(logits, reordered, rtol=1e-4, atol=1e-5)
    assert model.family in FAMILIES
    assert model.mixes_frames == order_matters
    assert isinstance(model.cam_layer(), CamLayer)


@pytest.mark.parametrize("name", list_models())
def test_forward_backward_and_head_reset(name):
    model, clip = build(name)
    logits = model(clip)
    assert logits.shape == (2, NUM_CLASSES) and torch.isfinite(logits).all()
    torch.testing.assert_close(model.forward_head(model.forward_features(clip)), logits)
    assert model.forward_head(model.forward_features(clip), pre_logits=True).shape == (2, model.num_features)

    logits.square().mean().backward()
    without_grad = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert without_grad == []

    assert model.no_weight_decay() <= dict(model.named_parameters()).keys()
    model.reset_classifier(3)
    assert model(clip).shape == (2, 3)


@pytest.mark.parametrize("name", list_models())
def test_grad_checkpointing_gives_the_same_gradients(name):
    model, clip = build(name)
    model(clip).sum().backward()
    plain = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    model.set_grad_checkpointing(True)
    model(clip).sum().backward()
    for n, p in model.named_parameters():
        torch.testing.assert_close(p.grad, plain[n], rtol=1e-4, atol=1e-6, msg=n)


@pytest.mark.parametrize("name", list_models())
def test_saved_weights_load_strictly_through_create_model(name, tmp_path):
    model, clip = build(name)
    path = tmp_path / "weights.pth"
    torch.save({"state_dict": model.state_dict()}, path)
    overrides, (frames, _, _) = TINY[name]
    torch.manual_seed(123)  # different initial weights: the checkpoint must replace all of them
    loaded = create_model(name, num_classes=NUM_CLASSES, num_frames=frames, dropout=0.0, checkpoint=path, **overrides)
    with torch.no_grad():
        torch.testing.assert_close(loaded.eval()(clip), model(clip), rtol=0, atol=0)
