"""``pst_t`` (``rpe="official"``) and ``video_swin_t`` are numerically the released implementations.

How the golden files in ``tests/fixtures/release`` were produced (the release code is not part of this
repository): the release's ``mmaction/models/backbones/swin_transformer2d_tps.py`` was made importable
outside MMAction2 with stub modules (``BACKBONES`` registry, logger, ``einops.rearrange`` as a permute)
and built with ``patch_size=(2, 4, 4)``, ``window_size=(1, 7, 7)``, ``patch_norm=True``,
``drop_path_rate=0``; an MMAction2 ``I3DHead`` equivalent (mean over T, H, W → ``fc_cls``) was put on top.
Weights were drawn by :func:`seeded_weights` (below, the same function) over the release's state-dict
keys (prefixed ``backbone.`` / ``cls_head.fc_cls.``), the clip by :func:`seeded_clip`; the model ran in
eval mode on CPU in float32.

- ``pst_release_reduced.pt``: embed_dim 16, depths (2, 2, 2, 2), heads (1, 2, 2, 4), 5 classes, weight
  seed 1, clip seed 2 (1×3×32×224×224: 16 temporal tokens and 7×7 windows at every stage, the only
  sizes the release runs). Holds the release's key list, its two index buffers (int16), the weights
  (float16), the output tokens, pooled features and logits.
- ``pst_release_full_logits.pt``: the full PST-T (96, (2, 2, 6, 2), (3, 6, 12, 24), 400 classes),
  weight seed 3, clip seed 4. Holds the key list and the pooled features and logits.
- ``video_swin_release_reduced.pt``: Video Swin's ``SwinTransformer3D`` as vendored in the same
  repository (``mmaction/models/backbones/swin_transformer.py``), window (8, 7, 7), embed_dim 8, depths
  (2, 2, 2, 2), heads (1, 1, 2, 2), 5 classes, weight seed 5, clip seed 6 (32 frames at 224²: two
  temporal windows, 3D shifted windows). Holds the key list, weights (float16), tokens and logits.
"""

import math
from pathlib import Path

import pytest
import torch

from videoshift.models import CheckpointError, create_model, load_checkpoint

DATA = Path(__file__).resolve().parent.parent / "fixtures" / "release"
REDUCED = {"embed_dim": 16, "depths": (2, 2, 2, 2), "num_heads": (1, 2, 2, 4), "num_classes": 5}


def seeded_weights(shapes: dict[str, tuple[int, ...]], seed: int) -> dict[str, torch.Tensor]:
    """Deterministic weights of unit-scale activations; bias tables large so their indexing matters."""
    generator = torch.Generator().manual_seed(seed)
    out = {}
    for key in sorted(shapes):
        shape = shapes[key]
        x = torch.randn(shape, generator=generator)
        if key.endswith("relative_position_bias_table"):
            pass
        elif key.endswith(".weight") and len(shape) >= 2:
            x = x / math.sqrt(math.prod(shape[1:]))
        elif "norm" in key and key.endswith(".weight"):
            x = 1 + 0.1 * x
        else:
            x = 0.1 * x
        out[key] = x.half().float()
    return out


def seeded_clip(seed: int) -> torch.Tensor:
    return torch.randn((1, 3, 32, 224, 224), generator=torch.Generator().manual_seed(seed))


def _check_clip(clip: torch.Tensor, checksum: torch.Tensor) -> None:
    got = torch.stack([clip.sum(), clip.abs().sum(), clip[0, 0, 0, 0, 0]])
    assert torch.allclose(got, checksum, rtol=1e-5), "torch's seeded randn changed; regenerate the golden files"


def _key_list(model: torch.nn.Module) -> list[str]:
    return [f"{k} {tuple(v.shape)}" for k, v in model.state_dict().items()]


@pytest.fixture(scope="module")
def reduced():
    return torch.load(DATA / "pst_release_reduced.pt", weights_only=True)


def test_keys_shapes_and_index_buffers_equal_the_release(reduced):
    model = create_model("pst_t", **REDUCED)
    assert _key_list(model) == reduced["keys"]
    for name, buffer in model.named_buffers():
        leaf = name.rsplit(".", 1)[-1]
        assert torch.equal(buffer, reduced[leaf].long()), name


def test_reduced_model_output_equals_the_release(reduced):
    model = create_model("pst_t", **REDUCED).eval()
    report = load_checkpoint(model, {"state_dict": {k: v.float() for k, v in reduced["state_dict"].items()}})
    assert report.skipped_head == []
    clip = seeded_clip(2)
    _check_clip(clip, reduced["clip_checksum"])
    with torch.no_grad():
        tokens = model.forward_features(clip)
        pooled = model.forward_head(tokens, pre_logits=True)
        logits = model.forward_head(tokens)
    torch.testing.assert_close(tokens, reduced["features"], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(pooled, reduced["pooled"], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(logits, reduced["logits"], atol=1e-4, rtol=1e-4)
    with torch.no_grad():  # batched with another clip: windows and per-frame biases stay with their clip
        batched = model(torch.cat([clip.flip(-1), clip]))
    torch.testing.assert_close(batched[1:], reduced["logits"], atol=1e-4, rtol=1e-4)


def test_released_checkpoint_file_loads_through_create_model(reduced, tmp_path):
    path = tmp_path / "release.pth"  # an mmcv-style checkpoint, index buffers included
    state = {k: v.float() for k, v in reduced["state_dict"].items()}
    model = create_model("pst_t", **REDUCED)
    state.update({k: v for k, v in model.state_dict().items() if "relative_position_index" in k})
    torch.save({"meta": {"epoch": 30}, "state_dict": state}, path)
    loaded = create_model("pst_t", checkpoint=path, **REDUCED)
    assert torch.equal(loaded.cls_head.fc_cls.weight, state["cls_head.fc_cls.weight"])
    with pytest.raises(CheckpointError, match="another shift pattern"):
        load_checkpoint(create_model("pst_t", shift_pattern="A", **REDUCED), path)


@pytest.mark.slow
def test_full_pst_t_output_equals_the_release():
    golden = torch.load(DATA / "pst_release_full_logits.pt", weights_only=True)
    model = create_model("pst_t").eval()
    assert _key_list(model) == golden["keys"]
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items() if v.is_floating_point()}
    load_checkpoint(model, seeded_weights(shapes, seed=3))
    clip = seeded_clip(4)
    _check_clip(clip, golden["clip_checksum"])
    with torch.no_grad():
        pooled = model.forward_head(model.forward_features(clip), pre_logits=True)
    torch.testing.assert_close(pooled, golden["pooled"], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(model.forward_head(pooled[:, None, None, None]), golden["logits"], atol=1e-4, rtol=1e-4)


def test_official_rpe_refuses_what_the_release_cannot_run():
    with pytest.raises(ValueError, match="rpe='general'"):
        create_model("pst_t", num_frames=16)
    with pytest.raises(ValueError, match="rpe='general'"):
        create_model("pst_t", window_size=(2, 7, 7))
    model = create_model("pst_t", **REDUCED)
    with pytest.raises(ValueError, match="7x7 windows"):
        model(torch.zeros(1, 3, 32, 64, 64))


def test_video_swin_equals_the_released_video_swin():
    golden = torch.load(DATA / "video_swin_release_reduced.pt", weights_only=True)
    arch = {"embed_dim": 8, "depths": (2, 2, 2, 2), "num_heads": (1, 1, 2, 2), "num_classes": 5}
    model = create_model("video_swin_t", drop_path_rate=0.0, **arch).eval()
    released_keys = [k for k in golden["keys"] if "relative_position_index" not in k]  # the model derives them
    assert _key_list(model) == released_keys
    load_checkpoint(model, {k: v.float() for k, v in golden["state_dict"].items()})
    clip = seeded_clip(6)
    _check_clip(clip, golden["clip_checksum"])
    with torch.no_grad():
        tokens = model.forward_features(clip)
    torch.testing.assert_close(tokens, golden["features"], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(model.forward_head(tokens), golden["logits"], atol=1e-4, rtol=1e-4)
