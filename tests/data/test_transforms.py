import numpy as np
import pytest
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from videoshift.data.settings import TransformConfig
from videoshift.data.transforms import ClipTransform, MultiScaleCrop, mirror_label, three_crop


def static_clip(t=4, h=40, w=50, seed=0) -> torch.Tensor:
    """uint8 (T, H, W, 3) whose frames are all the same image."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (1, h, w, 3), dtype=torch.uint8, generator=g).repeat(t, 1, 1, 1)


@pytest.mark.parametrize(
    "transform",
    [v2.RandAugment(num_ops=3, magnitude=15), v2.AutoAugment(), v2.RandomErasing(p=1.0), v2.RandomResizedCrop(24)],
    ids=["randaugment", "autoaugment", "erasing", "resized_crop"],
)
def test_v2_draws_one_parameter_set_per_video(transform):
    # identical input frames stay identical only if every frame got the same random parameters
    video = tv_tensors.Video(static_clip(t=6).permute(0, 3, 1, 2))
    if isinstance(transform, v2.RandomErasing):
        video = v2.ToDtype(torch.float32, scale=True)(video)
    changed = False
    for seed in range(10):
        torch.manual_seed(seed)
        out = transform(video)
        assert all(torch.equal(out[0], out[t]) for t in range(1, 6))
        changed |= out.shape != video.shape or not torch.equal(out[0], video[0])
    assert changed  # the transform did something


def test_clip_transform_train_output_and_consistency():
    config = TransformConfig.from_mapping(
        {"input_size": 32, "short_side": 36, "autoaugment": "rand", "random_erasing": 0.5, "train_crop": "multiscale"}
    )
    transform = ClipTransform(config, train=True)
    for seed in range(5):
        torch.manual_seed(seed)
        clip, _ = transform(static_clip(), torch.tensor(0))
        assert clip.shape == (3, 4, 32, 32) and clip.dtype == torch.float32 and type(clip) is torch.Tensor
        assert all(torch.equal(clip[:, 0], clip[:, t]) for t in range(4))


def test_normalisation_values():
    frames = torch.full((2, 8, 8, 3), 255, dtype=torch.uint8)
    config = TransformConfig.from_mapping({"input_size": 8, "short_side": 8, "mean": [0.5] * 3, "std": [0.25] * 3})
    clip, _ = ClipTransform(config, train=False)(frames, torch.tensor(0))
    assert torch.allclose(clip, torch.full_like(clip, 2.0))  # (1 - 0.5) / 0.25
    mm = TransformConfig.from_mapping({"input_size": 8, "short_side": 8, "mean": [127.5] * 3, "std": [127.5] * 3})
    clip, _ = ClipTransform(mm, train=False)(frames, torch.tensor(0))  # MMAction2's 0-255 statistics
    assert torch.allclose(clip, torch.ones_like(clip))


def test_flip_swaps_direction_labels():
    frames = static_clip(t=2, h=16, w=16)
    config = TransformConfig.from_mapping({"input_size": 16, "short_side": 16, "train_crop": "center"})
    transform = ClipTransform(config, train=True, flip_map={3: 7, 7: 3})
    plain, _ = ClipTransform(config, train=False)(frames, torch.tensor(3))
    outcomes = set()
    for seed in range(20):
        torch.manual_seed(seed)
        clip, label = transform(frames, torch.tensor(3))
        flipped = torch.equal(clip, plain[0].flip(-1))
        assert flipped or torch.equal(clip, plain[0])
        assert int(label) == (7 if flipped else 3)
        outcomes.add(flipped)
        _, other = transform(frames, torch.tensor(5))
        assert int(other) == 5  # not a direction class
    assert outcomes == {True, False}


def test_mirror_label_multi_hot():
    label = torch.tensor([1.0, 0.0, 0.0, 1.0])
    assert mirror_label(label, {0: 2, 2: 0}).tolist() == [0.0, 0.0, 1.0, 1.0]
    assert mirror_label(torch.tensor(2), {0: 2, 2: 0}).item() == 0


@pytest.mark.parametrize("crops", [1, 3, 10])
def test_test_views(crops):
    config = TransformConfig.from_mapping({"input_size": 24, "short_side": 30, "test_crops": crops})
    clip, _ = ClipTransform(config, train=False)(static_clip(h=40, w=60), torch.tensor(0))
    assert clip.shape == (crops, 3, 4, 24, 24)


def test_three_crop_positions():
    # a video whose pixel values encode the column: the crops must start at columns 0, (W - s) / 2, W - s
    columns = torch.arange(60).expand(2, 3, 30, 60)
    crops = three_crop(columns, 30)
    assert [int(c[0, 0, 0, 0]) for c in crops] == [0, 15, 30]
    rows = torch.arange(60).view(60, 1).expand(2, 3, 60, 30)
    assert [int(c[0, 0, 0, 0]) for c in three_crop(rows, 30)] == [0, 15, 30]
    with pytest.raises(ValueError, match=r"exceeds"):
        three_crop(columns, 31)


def test_multiscale_crop_candidates():
    # TSN: sides from min(H, W) = 256 times (1, .875, .75, .66) -> 256, 224, 192, 168; |i - j| <= 1;
    # offsets on a 4x4 step grid of the slack
    crop = MultiScaleCrop(224)
    sides = [256, 224, 192, 168]
    allowed = {(sides[i], sides[j]) for i in range(4) for j in range(4) if abs(i - j) <= 1}
    video = tv_tensors.Video(torch.zeros(2, 3, 256, 340, dtype=torch.uint8))
    seen = set()
    for seed in range(300):
        torch.manual_seed(seed)
        p = crop.make_params([video])
        assert (p["height"], p["width"]) in allowed
        hs, ws = (256 - p["height"]) // 4, (340 - p["width"]) // 4
        assert p["top"] in {k * hs for k in range(5)} and p["left"] in {k * ws for k in range(5)}
        seen.add((p["height"], p["width"]))
    assert seen == allowed
    assert crop(video).shape == (2, 3, 224, 224)


def test_config_errors():
    with pytest.raises(ValueError, match=r"unknown transform keys"):
        TransformConfig.from_mapping({"size": 3})
    with pytest.raises(ValueError, match=r"test_crops"):
        TransformConfig.from_mapping({"test_crops": 5})
    with pytest.raises(ValueError, match=r"train_crop"):
        TransformConfig.from_mapping({"train_crop": "random"})
    with pytest.raises(ValueError, match=r"uint8"):
        ClipTransform(TransformConfig(), train=False)(torch.zeros(2, 8, 8, 3), torch.tensor(0))


def test_random_erasing_is_applied_after_normalise():
    config = TransformConfig.from_mapping({"input_size": 16, "short_side": 16, "random_erasing": 1.0, "flip": False})
    torch.manual_seed(0)
    clip, _ = ClipTransform(config, train=True)(torch.full((3, 16, 16, 3), 255, dtype=torch.uint8), torch.tensor(0))
    reference = (1.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    erased = ~torch.isclose(clip, torch.tensor(reference, dtype=torch.float32).view(3, 1, 1, 1).expand_as(clip))
    assert erased.any() and torch.equal(erased[:, 0], erased[:, 1])  # same box on every frame
