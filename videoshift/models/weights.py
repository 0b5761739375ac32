"""Published weights that a user can name: one :class:`WeightSpec` per tag, data only.

A tag is ``<model>.<dataset>_<source>_<frames>f`` (e.g. ``tsm_r50.k400_mmaction2_8f``); ``create_model(name,
pretrained=tag)`` downloads, verifies and loads the file (:mod:`videoshift.models.hub`), and ``videoshift weights
list`` prints this table.

Every URL, file name, checksum and upstream number below was read from the upstream project's own listing, named in
:attr:`Source.listing` (repository, file, commit); nothing is guessed. What each upstream publishes decides how a
download is checked (:attr:`WeightSpec.verification`):

- ``"sha256-prefix"``: MMAction2 puts the first 8 hex digits of the file's sha256 in its file name
  (``…_20220831-64d69186.pth``) and publishes no full hash; the file is checked against that prefix, the way
  MMAction2's own tooling (``torch.hub``'s ``check_hash``) does.
- ``"sha256"`` / ``"size"``: a full hash or a size that an upstream listing publishes (none of today's entries has
  one; a file converted by ``videoshift weights convert`` gets a full sha256).
- ``"none"``: the upstream publishes neither hash nor size (the TSM repository, TDN's Google Drive folders, the
  Video Swin file that the TPS README links). Such files are never downloaded automatically: the user downloads
  them by hand from :attr:`WeightSpec.page` and places them at the cache path the error message names; they are
  then loaded with a warning that nothing checked them.

``params`` and ``gmacs`` are videoshift's own counts (:func:`~videoshift.models.complexity.count_params`,
:func:`~videoshift.models.complexity.count_macs` of one view at the test protocol's input); ``upstream`` holds the
numbers as the upstream printed them (top-1/top-5 in %, its "FLOPs" and parameter strings), and ``measured`` what
videoshift measured itself with these weights (empty until someone runs ``videoshift test`` on the dataset).

The TPS repository (MartinXM/TPS, README at e913d2a) publishes no PST checkpoint (only a ModelScope page without
file listing); its README links the Video Swin-B Kinetics-400 (ImageNet-22K) file that it fine-tunes from, which is
the one TPS-family entry here.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

VERIFICATIONS = ("sha256", "sha256-prefix", "size", "none")
LABEL_MAPS = ("kinetics400", "sthv1", "sthv2")
"""Class lists shipped in ``videoshift/models/label_maps/`` (see the README there for their source)."""

IMAGENET_MEAN_255 = (123.675, 116.28, 103.53)
IMAGENET_STD_255 = (58.395, 57.12, 57.375)


@dataclass(frozen=True)
class Source:
    """Where a weight file comes from.

    Attributes:
        repository: the upstream project (``owner/name`` on GitHub).
        listing: the file and commit of the upstream listing that publishes the URL, checksum and results.
        file_name: the upstream file name.
        upstream_checksum: the checksum as the upstream publishes it (``None`` where it publishes none).
        upstream_name: the upstream's name of the model / config.
    """

    repository: str
    listing: str
    file_name: str
    upstream_checksum: str | None
    upstream_name: str


@dataclass(frozen=True)
class TestProtocol:
    """How the upstream tested the weights, as videoshift data settings.

    Attributes:
        frames: frames per view that the model reads.
        sampling: the ``test_sampling`` data section (videoshift sampler settings).
        views: ``(clips, crops)``.
        input_size: crop side; ``short_side``: the resize before cropping.
        mean, std: normalisation (0-255 statistics, as MMAction2 and the TSM repository give them).
        label_map: name of the shipped class list (:data:`LABEL_MAPS`).
        upstream: the upstream's own words for the protocol.
    """

    frames: int
    sampling: Mapping[str, Any]
    views: tuple[int, int]
    input_size: int
    short_side: int
    label_map: str
    upstream: str
    mean: tuple[float, ...] = IMAGENET_MEAN_255
    std: tuple[float, ...] = IMAGENET_STD_255

    def data_config(self) -> dict[str, Any]:
        """The ``data`` settings that reproduce the protocol (sampling, crops, resize, normalisation)."""
        twice = int(bool(self.sampling.get("twice_sample")))  # the extra view of twice_sample is one of the clips
        sampling = {**self.sampling, "num_clips": self.views[0] - twice}
        transform = {
            "input_size": self.input_size,
            "short_side": self.short_side,
            "mean": list(self.mean),
            "std": list(self.std),
            "test_crops": self.views[1],
        }
        return {"test_sampling": sampling, "transform": transform}


@dataclass(frozen=True)
class WeightSpec:
    """One published weight file and everything needed to use it.

    Attributes:
        tag: the name users give, ``<model>.<dataset>_<source>_<frames>f``.
        model: the registered model; ``kwargs``: its ``create_model`` arguments (``num_classes`` included).
        source: upstream origin (:class:`Source`).
        urls: download locations, first tried first; empty where the file cannot be fetched automatically.
        page: where a user finds the file by hand (the listing, or the upstream's folder link).
        verification: one of :data:`VERIFICATIONS`; ``sha256`` (full), ``sha256_prefix`` and ``size`` the values
            checked (``None`` where not published).
        license: the upstream repository's license.
        params: parameters of the built model; ``gmacs``: giga multiply-adds of one view at the protocol's input.
        protocol: :class:`TestProtocol`.
        upstream: results and costs as the upstream printed them.
        measured: results videoshift measured with these weights (empty: not measured yet).
        paper_row: the row of :mod:`videoshift.models.papers` these weights correspond to, if any.
        notes: anything a user should know (conversion caveats, protocol approximations).
    """

    tag: str
    model: str
    kwargs: Mapping[str, Any]
    source: Source
    urls: tuple[str, ...]
    page: str
    verification: str
    license: str
    params: int
    gmacs: float
    protocol: TestProtocol
    upstream: Mapping[str, Any]
    sha256: str | None = None
    sha256_prefix: str | None = None
    size: int | None = None
    measured: Mapping[str, Any] = field(default_factory=dict)
    paper_row: str | None = None
    notes: str = ""

    @property
    def num_classes(self) -> int:
        return int(self.kwargs["num_classes"])

    @property
    def downloadable(self) -> bool:
        """Whether the file is fetched automatically (it has a URL and a published check)."""
        return bool(self.urls) and self.verification != "none"

    @property
    def upstream_top1(self) -> float | None:
        """The upstream's headline top-1 (%)."""
        return self.upstream.get("top1")

    def class_names(self) -> list[str]:
        """The class names of the weights' outputs, in order."""
        return read_shipped_label_map(self.protocol.label_map)


def read_shipped_label_map(name: str) -> list[str]:
    """A class list shipped with videoshift (:data:`LABEL_MAPS`)."""
    if name not in LABEL_MAPS:
        raise ValueError(f"no shipped label map {name!r}; shipped: {', '.join(LABEL_MAPS)}")
    text = resources.files("videoshift.models").joinpath("label_maps", f"{name}.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


_MMA = "open-mmlab/mmaction2"
_MMA_COMMIT = "4d6c93474730cad2f25e51109adcf96824efc7a3"
_MMA_URL = "https://download.openmmlab.com/mmaction/v1.0/recognition/{family}/{name}/{name}_{stamp}.pth"
_TSM = "mit-han-lab/temporal-shift-module"
_TSM_LISTING = "README.md (Pretrained Models) at 1f6a834b02120441d99fa706b7a13ccc5293c6fa"
_TSM_URL = "https://hanlab18.mit.edu/projects/tsm/models/{}.pth"
_TDN = "MCG-NJU/TDN"
_TDN_LISTING = "README.md (Model Zoo) at a7c7e9bcd109d8256cd27a11505bd6e00de39ce0"
_K400 = "kinetics400"


def _mmaction2(
    tag: str, model: str, family: str, name: str, stamp: str, *, protocol: TestProtocol, **rest: Any
) -> WeightSpec:
    """An MMAction2 v1.0 model-zoo entry: URL from the metafile, sha256 prefix from the file name."""
    file_name = f"{name}_{stamp}.pth"
    prefix = stamp.rsplit("-", 1)[1]
    return WeightSpec(
        tag=tag,
        model=model,
        source=Source(_MMA, f"configs/recognition/{family}/metafile.yml at {_MMA_COMMIT}", file_name, prefix, name),
        urls=(_MMA_URL.format(family=family, name=name, stamp=stamp),),
        page=f"https://github.com/{_MMA}/blob/{_MMA_COMMIT}/configs/recognition/{family}/README.md",
        verification="sha256-prefix",
        sha256_prefix=prefix,
        license="Apache-2.0",
        protocol=protocol,
        **rest,
    )


def _by_hand(tag: str, model: str, repository: str, listing: str, file_name: str, *, page: str, **rest: Any):
    """An entry whose upstream publishes no checksum or size: downloaded by hand, loaded unverified."""
    return WeightSpec(
        tag=tag,
        model=model,
        source=Source(repository, listing, file_name, None, rest.pop("upstream_name", file_name)),
        page=page,
        verification="none",
        **rest,
    )


def _tsm_release(tag: str, model: str, stem: str, anchor: str, **rest: Any):
    """A TSM-repository release: ``STEM.pth`` from its model server, listed under README section ``#anchor``."""
    return _by_hand(
        tag,
        model,
        _TSM,
        _TSM_LISTING,
        f"{stem}.pth",
        urls=(_TSM_URL.format(stem),),
        page=f"https://github.com/{_TSM}#{anchor}",
        license="MIT",
        **rest,
    )


def _tsn_protocol(frames: int, views: tuple[int, int], size: int, label_map: str, upstream: str, **kw: Any):
    return TestProtocol(
        frames=frames,
        sampling=MappingProxyType({"type": "tsn", "num_frames": frames, **kw}),
        views=views,
        input_size=size,
        short_side=256,
        label_map=label_map,
        upstream=upstream,
    )


_MMA_8x10 = _tsn_protocol(8, (1, 10), 224, _K400, "SampleFrames 1x1x8 (test_mode), Resize short 256, TenCrop 224")
_TSM_K400_DENSE = TestProtocol(
    frames=8,
    sampling=MappingProxyType({"type": "dense", "clip_len": 8, "frame_interval": 8}),
    views=(10, 3),
    input_size=256,
    short_side=256,
    label_map=_K400,
    upstream="dense sampling, 8 frames x 10 clips, full resolution (3 crops of 256)",
)

WEIGHTS: tuple[WeightSpec, ...] = (
    # --- MMAction2 v1.0 model zoo (configs/recognition/{tsn,tsm,tanet}/metafile.yml + README tables) ---
    _mmaction2(
        "tsn_r50.k400_mmaction2_25f", "tsn_r50", "tsn",
        "tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb", "20220906-2692d16c",
        kwargs=MappingProxyType({"num_classes": 400, "num_frames": 25}),
        params=24327632, gmacs=102.199,
        protocol=_tsn_protocol(25, (1, 10), 224, _K400, "25 clips x 10 crop (SampleFrames num_clips=25, TenCrop 224)"),
        upstream=MappingProxyType(
            {"top1": 74.12, "top5": 91.34, "flops": "102.7G", "params": "24.33M", "train_frames": 8}
        ),
        paper_row="STSM Table 6: TSN R-50 8f",
        notes="trained on 8 segments, tested (and built here) on 25: TSN averages frames, so no weight depends on T",
    ),
    _mmaction2(
        "tsm_r50.k400_mmaction2_8f", "tsm_r50", "tsm",
        "tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb", "20220831-64d69186",
        kwargs=MappingProxyType({"num_classes": 400, "num_frames": 8}),
        params=24327632, gmacs=32.704, protocol=_MMA_8x10,
        upstream=MappingProxyType({"top1": 73.18, "top5": 90.56, "flops": "32.88G", "params": "23.87M"}),
        paper_row="STSM Table 6: TSM R-50 8f",
        notes="upstream params 23.87M is printed for a 174-class head; with 400 classes the model has 24.33M",
    ),
    _mmaction2(
        "tsm_r50.k400_mmaction2_16f", "tsm_r50", "tsm",
        "tsm_imagenet-pretrained-r50_8xb16-1x1x16-50e_kinetics400-rgb", "20220831-042b1748",
        kwargs=MappingProxyType({"num_classes": 400, "num_frames": 16}),
        params=24327632, gmacs=65.407,
        protocol=_tsn_protocol(16, (1, 10), 224, _K400, "16 clips x 10 crop (SampleFrames 1x1x16, TenCrop 224)"),
        upstream=MappingProxyType({"top1": 75.12, "top5": 91.55, "flops": "65.75G", "params": "23.87M"}),
        paper_row="STSM Table 6: TSM R-50 16f",
    ),
    _mmaction2(
        "tsm_r50_nl.k400_mmaction2_8f", "tsm_r50_nl", "tsm",
        "tsm_imagenet-pretrained-r50-nl-embedded-gaussian_8xb16-1x1x8-50e_kinetics400-rgb", "20220831-35eddb57",
        kwargs=MappingProxyType({"num_classes": 400, "num_frames": 8}),
        params=31682000, gmacs=61.104, protocol=_MMA_8x10,
        upstream=MappingProxyType({"top1": 74.34, "top5": 91.23, "flops": "61.30G", "params": "31.68M"}),
        paper_row="STSM Table 6: TSM+NL R-50",
    ),
    _mmaction2(
        "tsm_mbv2.k400_mmaction2_8f", "tsm_mbv2", "tsm",
        "tsm_imagenet-pretrained-mobilenetv2_8xb16-1x1x8-100e_kinetics400-rgb", "20230414-401127fd",
        kwargs=MappingProxyType({"num_classes": 400, "num_frames": 8}),
        params=2736272, gmacs=3.134,
        protocol=TestProtocol(8, MappingProxyType({"type": "tsn", "num_frames": 8}), (1, 3), 256, 256, _K400,
                              "8 clips x 3 crop (SampleFrames 1x1x8, ThreeCrop 256)"),
        upstream=MappingProxyType({"top1": 68.71, "top5": 88.32, "flops": "3.269G", "params": "2.736M"}),
        paper_row="STSM Table 6: TSM+Mb_V2",
        notes="MMAction2's MobileNetV2 keys are matched to timm's by tensor order (the converter checks every shape)",
    ),
    _mmaction2(
        "tanet_r50.k400_mmaction2_8f", "tanet_r50", "tanet",
        "tanet_imagenet-pretrained-r50_8xb8-dense-1x1x8-100e_kinetics400-rgb", "20220919-a34346bc",
        kwargs=MappingProxyType({"num_classes": 400, "num_frames": 8}),
        params=25590320, gmacs=42.783,
        protocol=TestProtocol(
            8, MappingProxyType({"type": "dense", "clip_len": 8, "frame_interval": 8}), (10, 3), 256, 256, _K400,
            "8 clips x 3 crop as listed; the config's DenseSampleFrames (8 frames over 64, 10 start positions), "
            "ThreeCrop 256", mean=(123.675, 116.28, 103.5),
        ),
        upstream=MappingProxyType({"top1": 76.25, "top5": 92.41, "flops": "43.0G", "params": "25.6M"}),
        paper_row="STSM Table 6: TANet R-50",
        notes="the config's mean is [123.675, 116.28, 103.5] (sic), kept as trained",
    ),
    _mmaction2(
        "tsm_r50.sthv2_mmaction2_8f", "tsm_r50", "tsm",
        "tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb", "20230317-be0fc26e",
        kwargs=MappingProxyType({"num_classes": 174, "num_frames": 8}),
        params=23864558, gmacs=42.709,
        protocol=_tsn_protocol(8, (2, 3), 256, "sthv2", "8 clips x 3 crop (SampleFrames twice_sample, ThreeCrop 256)",
                               twice_sample=True),
        upstream=MappingProxyType({"top1": 62.72, "top5": 87.70, "flops": "32.88G", "params": "23.87M"}),
        notes="upstream FLOPs are of a 224² input; the test crops are 256² (counted here)",
    ),
    # --- TSM repository (README "Pretrained Models"): no checksum or size published ---
    _tsm_release(
        "tsm_r50.k400_tsm_dense_8f", "tsm_r50",
        "TSM_kinetics_RGB_resnet50_shift8_blockres_avg_segment8_e100_dense", "kinetics-400",
        kwargs=MappingProxyType({"num_classes": 400, "num_frames": 8}),
        params=24327632, gmacs=42.713, protocol=_TSM_K400_DENSE,
        upstream=MappingProxyType({"top1": 74.1}),
        paper_row="STSM Table 6: TSM R-50 8f",
    ),
    _tsm_release(
        "tsm_r50.k400_tsm_uniform_8f", "tsm_r50",
        "TSM_kinetics_RGB_resnet50_shift8_blockres_avg_segment8_e50", "uniform-sampling",
        kwargs=MappingProxyType({"num_classes": 400, "num_frames": 8}),
        params=24327632, gmacs=32.704,
        protocol=_tsn_protocol(8, (1, 1), 224, _K400, "uniform 8 frames x 1 clip, center crop 224 (1-crop)"),
        upstream=MappingProxyType({"top1": 71.2, "top1_10crop": 72.8}),
    ),
    _tsm_release(
        "tsm_r50_nl.k400_tsm_dense_8f", "tsm_r50_nl",
        "TSM_kinetics_RGB_resnet50_shift8_blockres_avg_segment8_e100_dense_nl", "kinetics-400",
        kwargs=MappingProxyType({"num_classes": 400, "num_frames": 8}),
        params=31682000, gmacs=84.589, protocol=_TSM_K400_DENSE,
        upstream=MappingProxyType({"top1": 75.6}),
        paper_row="STSM Table 6: TSM+NL R-50",
    ),
    _tsm_release(
        "tsm_mbv2.k400_tsm_dense_8f", "tsm_mbv2",
        "TSM_kinetics_RGB_mobilenetv2_shift8_blockres_avg_segment8_e100_dense", "kinetics-400",
        kwargs=MappingProxyType({"num_classes": 400, "num_frames": 8}),
        params=2736272, gmacs=3.134, protocol=_TSM_K400_DENSE,
        upstream=MappingProxyType({"top1": 69.5}),
        paper_row="STSM Table 6: TSM+Mb_V2",
        notes="MobileNetV2 keys are matched to timm's by tensor order (the converter checks every shape)",
    ),
    _tsm_release(
        "tsm_r50.sthv2_tsm_8f", "tsm_r50",
        "TSM_somethingv2_RGB_resnet50_shift8_blockres_avg_segment8_e45", "something-something-v2",
        kwargs=MappingProxyType({"num_classes": 174, "num_frames": 8}),
        params=23864558, gmacs=42.709,
        protocol=_tsn_protocol(8, (2, 3), 256, "sthv2", "full resolution x 2 clips (twice sample, 3 crops of 256)",
                               twice_sample=True),
        upstream=MappingProxyType({"top1": 61.2}),
        notes="class order assumed to be the official label file's order, as in videoshift's sthv2 list",
    ),
    # --- TDN (README "Model Zoo"): Google Drive folders, no checksum or size published ---
    _by_hand(
        "tdn_r50.k400_tdn_8f", "tdn_r50", _TDN, _TDN_LISTING, "(file in the Google Drive folder)",
        urls=(), page="https://drive.google.com/drive/folders/1UALrg2ABFq-HGPdy8vgZ9mxqkSkuqWET?usp=sharing",
        license="Apache-2.0", kwargs=MappingProxyType({"num_classes": 400, "num_frames": 40}),
        params=24873648, gmacs=46.512,
        protocol=TestProtocol(40, MappingProxyType({"type": "tsn", "num_frames": 8, "segment_frames": 5}), (10, 3),
                              256, 256, _K400, "8x3x10: 8 segments (5 frames each), 3 crops, 10 clips, full res"),
        upstream=MappingProxyType({"top1": 76.6, "top5": 92.8}), upstream_name="TDN-ResNet50 8x3x10",
        paper_row="STSM Table 6: TDN R-50",
        notes="the README links a Drive folder, not a file: save its checkpoint under the cache path by hand",
    ),
    _by_hand(
        "tdn_r50.sthv1_tdn_8f", "tdn_r50", _TDN, _TDN_LISTING, "(file in the Google Drive folder)",
        urls=(), page="https://drive.google.com/drive/folders/12RpThsHQ-3F04fSu8hduM5b7FGnkEfnE?usp=sharing",
        license="Apache-2.0", kwargs=MappingProxyType({"num_classes": 174, "num_frames": 40}),
        params=24410574, gmacs=35.607,
        protocol=TestProtocol(40, MappingProxyType({"type": "tsn", "num_frames": 8, "segment_frames": 5}), (1, 1),
                              224, 256, "sthv1", "8x1x1: 8 segments (5 frames each), center crop, 1 clip"),
        upstream=MappingProxyType({"top1": 52.3, "top5": 80.6}), upstream_name="TDN-ResNet50 8x1x1",
        notes="Drive folder link; class order assumed to be the official label file's, as in videoshift's sthv1 list",
    ),
    _by_hand(
        "tdn_r50.sthv2_tdn_8f", "tdn_r50", _TDN, _TDN_LISTING, "(file in the Google Drive folder)",
        urls=(), page="https://drive.google.com/drive/folders/14pZ1W_Mh8nR4e1ziEz7AFpgbz-79HpIC?usp=sharing",
        license="Apache-2.0", kwargs=MappingProxyType({"num_classes": 174, "num_frames": 40}),
        params=24410574, gmacs=35.607,
        protocol=TestProtocol(40, MappingProxyType({"type": "tsn", "num_frames": 8, "segment_frames": 5}), (1, 1),
                              224, 256, "sthv2", "8x1x1: 8 segments (5 frames each), center crop, 1 clip"),
        upstream=MappingProxyType({"top1": 64.0, "top5": 88.8}), upstream_name="TDN-ResNet50 8x1x1",
        paper_row="STSM Table 7: TDN R-50",
        notes="Drive folder link; class order assumed to be the official label file's, as in videoshift's sthv2 list",
    ),
    # --- TPS repository README: the Video Swin file it fine-tunes Something-Something from ---
    _by_hand(
        "video_swin_b.k400_in22k_videoswin_32f", "video_swin_b", "MartinXM/TPS",
        "README.md (Notes) at e913d2a61ce854b482a0e1150c6f4486b93eb66e",
        "swin_base_patch244_window1677_kinetics400_22k.pth",
        urls=("https://github.com/SwinTransformer/storage/releases/download/v1.0.4/"
              "swin_base_patch244_window1677_kinetics400_22k.pth",),
        page="https://github.com/MartinXM/TPS#introduction", license="Apache-2.0",
        kwargs=MappingProxyType({"num_classes": 400, "num_frames": 32, "window_size": (16, 7, 7)}),
        params=89065688, gmacs=320.356,
        protocol=TestProtocol(32, MappingProxyType({"type": "dense", "clip_len": 32, "frame_interval": 2}), (4, 3),
                              224, 224, _K400, "not given by the TPS README; TPS Table 4's Kinetics protocol "
                              "(32 frames, stride 2, 4 clips x 3 crops)"),
        upstream=MappingProxyType({}),
        notes="the TPS README gives no result for this file (it is the SSv2 initialisation); Video Swin's license",
    ),
)  # fmt: skip

_BY_TAG: dict[str, WeightSpec] = {spec.tag: spec for spec in WEIGHTS}
if len(_BY_TAG) != len(WEIGHTS):
    raise RuntimeError("duplicate weight tags")


def list_weights(model: str | None = None) -> list[WeightSpec]:
    """The weight specs, optionally only those of ``model``."""
    return [spec for spec in WEIGHTS if model is None or spec.model == model]


def get_weights(tag: str, model: str | None = None) -> WeightSpec:
    """The spec named ``tag``; with ``model``, the short form without the model (``"k400_mmaction2_8f"``) works too.

    Raises ``ValueError`` with close matches for an unknown tag or one that belongs to another model.
    """
    full = tag if "." in tag or model is None else f"{model}.{tag}"
    spec = _BY_TAG.get(full)
    if spec is None:
        close = difflib.get_close_matches(full, _BY_TAG, n=4, cutoff=0.4)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `videoshift weights list`"
        raise ValueError(f"unknown weights {tag!r}{hint}")
    if model is not None and spec.model != model:
        raise ValueError(f"weights {spec.tag!r} are for model {spec.model!r}, not {model!r}")
    return spec
