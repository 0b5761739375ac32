"""Transform rules pinned exactly (found by mutation testing: scripts/mutation.sh transforms).

TSN's multi-scale crop is compared, over many draws, with the explicit set of (top, left, height, width) crops of
the TSN rule; three-crop positions, the train crop kinds, the augmentation kinds, antialiased resizing, the 0-255
statistics rule and the config checks are compared with values written out here.
"""

from __future__ import annotations

import pytest
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from videoshift.data.label_maps import read_label_map, write_label_map
from videoshift.data.settings import TransformConfig
from videoshift.data.transforms import ClipTransform, MultiScaleCrop, mirror_label, three_crop

HEIGHT, WIDTH = 64, 86


def _tsn_crops(height: int, width: int, num_fixed_crops: int) -> set[tuple[int, int, int, int]]:
    """TSN's GroupMultiScaleCrop: side pairs from scales (1, .875, .75, .66) at most one step apart, fixed offsets."""
    sides = [int(min(height, width) * s) for s in (1, 0.875, 0.75, 0.66)]
    fractions = [(0, 0), (0, 4), (4, 0), (4, 4), (2, 2)]  # corners, centre (in quarters of the free space)
    if num_fixed_crops == 13:
        fractions += [(2, 0), (2, 4), (4, 2), (0, 2), (1, 1), (1, 3), (3, 1), (3, 3)]
    crops = set()
    for i, h in enumerate(sides):
        for j, w in enumerate(sides):
            if abs(i - j) <= 1:
                step_h, step_w = (height - h) // 4, (width - w) // 4
                crops |= {(r * step_h, c * step_w, h, w) for r, c in fractions}
    return crops


def _drawn(crop: MultiScaleCrop, draws: int) -> set[tuple[int, int, int, int]]:
    flat = [tv_tensors.Video(torch.zeros(1, 3, HEIGHT, WIDTH))]
    torch.manual_seed(0)
    out = set()
    for _ in range(draws):
        p = crop.make_params(flat)
        out.add((p["top"], p["left"], p["height"], p["width"]))
    return out


@pytest.mark.parametrize("num_fixed_crops", [5, 13])
def test_multiscale_crop_draws_exactly_the_tsn_crops(num_fixed_crops):
    expected = _tsn_crops(HEIGHT, WIDTH, num_fixed_crops)
    assert _drawn(MultiScaleCrop(32, num_fixed_crops=num_fixed_crops), 40 * len(expected)) == expected


def test_multiscale_random_crop_places_crops_anywhere():
    drawn = _drawn(MultiScaleCrop(32, scales=(0.5,), random_crop=True), 2000)  # one side: 32
    assert {t for t, _, _, _ in drawn} == set(range(33)) and {lft for _, lft, _, _ in drawn} == set(range(55))


def test_multiscale_crop_resizes_with_antialiasing_and_checks_its_positions():
    video = tv_tensors.Video(torch.rand(2, 3, HEIGHT, WIDTH))
    crop = MultiScaleCrop(16)
    params = {"top": 2, "left": 3, "height": 48, "width": 56}
    expected = F.resized_crop(video.as_subclass(torch.Tensor), **params, size=[16, 16], antialias=True)
    torch.testing.assert_close(crop.transform(video, params).as_subclass(torch.Tensor), expected)
    with pytest.raises(ValueError, match=r"num_fixed_crops must be 5 or 13, got 6"):
        MultiScaleCrop(16, num_fixed_crops=6)


@pytest.mark.parametrize(
    ("height", "width", "size", "tops", "lefts"),
    [
        (30, 17, 17, [0, 6, 13], [0, 0, 0]),  # tall: start, centre, end along the height
        (17, 30, 17, [0, 0, 0], [0, 6, 13]),  # wide: along the width
        (20, 20, 16, [2, 2, 2], [0, 2, 4]),  # square: along the width, centred in height
        (31, 20, 16, [0, 7, 15], [2, 2, 2]),
    ],
)
def test_three_crop_positions(height, width, size, tops, lefts):
    video = torch.arange(height * width, dtype=torch.float32).reshape(1, 1, height, width)
    crops = three_crop(video, size)
    corners = [divmod(int(c[0, 0, 0, 0]), width) for c in crops]
    assert corners == list(zip(tops, lefts, strict=True))
    assert all(c.shape[-2:] == (size, size) for c in crops)


def _config(**values) -> TransformConfig:
    return TransformConfig.from_mapping({"input_size": 16, "short_side": 32, **values})


def test_train_crop_and_augmentation_kinds():
    kinds = {"random_resized": v2.RandomResizedCrop, "multiscale": MultiScaleCrop, "center": v2.CenterCrop}
    for name, kind in kinds.items():
        assert isinstance(ClipTransform(_config(train_crop=name), train=True).crop, kind)
    augments = {"rand": v2.RandAugment, True: v2.RandAugment, "auto": v2.AutoAugment}
    for value, kind in augments.items():
        assert type(ClipTransform(_config(autoaugment=value), train=True).augment) is kind
        assert ClipTransform(_config(autoaugment=value), train=False).augment is None
    assert ClipTransform(_config(autoaugment=False), train=True).augment is None


def test_full_frame_random_resized_crop_is_an_antialiased_resize():
    torch.manual_seed(0)
    frames = torch.randint(0, 256, (2, 32, 32, 3), dtype=torch.uint8)
    config = _config(crop_scale=[1.0, 1.0], flip=False, mean=[0.0] * 3, std=[1.0] * 3)
    clip, _ = ClipTransform(config, train=True)(frames, torch.tensor(0))
    expected = F.resize(frames.permute(0, 3, 1, 2), [16, 16], antialias=True).float() / 255
    torch.testing.assert_close(clip, expected.permute(1, 0, 2, 3), atol=1 / 255, rtol=0)
    test_clip, _ = ClipTransform(_config(short_side=16, mean=[0.0] * 3, std=[1.0] * 3), train=False)(
        frames, torch.tensor(0)
    )
    resized = F.resize(frames.permute(0, 3, 1, 2), [16], antialias=True).float() / 255
    torch.testing.assert_close(test_clip[0], resized.permute(1, 0, 2, 3), atol=1 / 255, rtol=0)


def test_statistics_above_one_are_on_the_0_255_scale():
    frames = torch.full((1, 16, 16, 3), 51, dtype=torch.uint8)  # 0.2 on the 0-1 scale
    unit = ClipTransform(_config(short_side=16, mean=[1.0] * 3, std=[1.0] * 3), train=False)(frames, 0)[0]
    assert torch.allclose(unit, torch.tensor(0.2 - 1.0))
    byte = ClipTransform(_config(short_side=16, mean=[2.0] * 3, std=[51.0] * 3), train=False)(frames, 0)[0]
    assert torch.allclose(byte, torch.tensor((51 - 2.0) / 51))


def test_config_checks_and_conversions():
    config = TransformConfig.from_mapping({"mean": [0.5, 0.5, 0.5], "crop_scale": [0.2, 1.0], "autoaugment": True})
    assert config.mean == (0.5, 0.5, 0.5) and config.crop_scale == (0.2, 1.0)
    assert TransformConfig.from_mapping({"autoaugment": "auto"}).autoaugment == "auto"
    with pytest.raises(ValueError, match=r"autoaugment must be false, 'rand' or 'auto', got 'trivial'"):
        TransformConfig.from_mapping({"autoaugment": "trivial"})
    with pytest.raises(ValueError, match=r"random_erasing must be a probability, got 1.5"):
        TransformConfig.from_mapping({"random_erasing": 1.5})


def test_frames_must_be_uint8_rgb_clips_and_labels_keep_their_dtype():
    transform = ClipTransform(_config(short_side=16), train=False)
    with pytest.raises(ValueError, match=r"frames must be uint8 \(T, H, W, 3\)"):
        transform(torch.zeros(1, 16, 16, 4, dtype=torch.uint8), torch.tensor(0))
    mirrored = mirror_label(torch.tensor(3, dtype=torch.int32), {3: 7, 7: 3})
    assert mirrored.dtype == torch.int32 and int(mirrored) == 7


def test_label_maps_round_trip_and_trailing_blank_lines_are_ignored(tmp_path):
    path = write_label_map(tmp_path / "a" / "b" / "labels.txt", ["x"])  # missing parents are created
    assert write_label_map(path, ["a b", "c"]) == path  # and an existing folder is fine
    assert path.read_text() == "a b\nc\n"
    assert read_label_map(path) == ["a b", "c"]
    path.write_text("a\nb\n\n\n")
    assert read_label_map(path) == ["a", "b"]
