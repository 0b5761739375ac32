"""The papers' efficiency tables as data: which models each row is, and what the paper reports.

``videoshift bench models --preset NAME`` measures every row that has a model in this package and
prints the paper's figures beside the measured ones. Absolute times from the papers' V100 are not
comparable with another machine's; the ratios to a preset's first row are.

Figures are as printed: "FLOPs" are multiply-adds (G), memory in GB, latency in ms at batch 1,
throughput in videos/s at batch 4, top-1 in %. ``None`` where the paper gives no number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PaperRow:
    """One row of a paper's table.

    Attributes:
        label: the row's name in the paper.
        model: registered model name that builds this row, or ``None`` if the package has none.
        kwargs: keyword arguments for ``create_model`` that make the row's variant.
        frames: input frames.
        size: input height and width.
        gmacs: the paper's "FLOPs" per view (giga multiply-adds).
        params_m: parameters (millions).
        memory_gb: inference memory (GB).
        latency_ms: latency at batch 1 (ms).
        throughput_vps: throughput at batch 4 (videos/s).
        top1: top-1 accuracy per dataset.
    """

    label: str
    model: str | None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    frames: int = 32
    size: int = 224
    gmacs: float | None = None
    params_m: float | None = None
    memory_gb: float | None = None
    latency_ms: float | None = None
    throughput_vps: float | None = None
    top1: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Preset:
    """A paper table: its source, the dataset whose top-1 is plotted, and its rows."""

    name: str
    source: str
    dataset: str
    rows: tuple[PaperRow, ...]
    note: str = ""


_JOINT = {"window_size": (16, 7, 7)}  # Video Swin with one window over all 16 temporal tokens

TPS_TABLE6 = Preset(
    name="tps-table6",
    source="TPS paper, Table 6 (Something-Something V1/V2, 32x224², one NVIDIA V100)",
    dataset="sthv2",
    note="Params are one merged cell per group in the paper. Video-Swin is the 16x7x7 'Joint' window (106 G).",
    rows=(
        PaperRow("2D Swin-T", "swin2d_t", gmacs=72, params_m=28.5, memory_gb=1.7, latency_ms=29,
                 throughput_vps=35.5, top1={"sthv1": 40.6, "sthv2": 56.7}),
        PaperRow("Video-Swin-T", "video_swin_t", _JOINT, gmacs=106, params_m=28.5, memory_gb=3.0, latency_ms=62,
                 throughput_vps=17.7, top1={"sthv1": 51.5, "sthv2": 65.7}),
        PaperRow("PST-T", "pst_t", gmacs=72, params_m=28.5, memory_gb=1.7, latency_ms=31, throughput_vps=34.7,
                 top1={"sthv1": 52.2, "sthv2": 65.7}),
        PaperRow("2D Swin-B", "swin2d_b", gmacs=247, params_m=88.8, memory_gb=2.2, latency_ms=71,
                 throughput_vps=15.5, top1={"sthv2": 59.5}),
        PaperRow("Video-Swin-B", "video_swin_b", _JOINT, gmacs=321, params_m=88.8, memory_gb=3.6, latency_ms=147,
                 throughput_vps=7.9, top1={"sthv2": 69.6}),
        PaperRow("PST-B†", "pst_b_tw2", gmacs=252, params_m=88.8, memory_gb=2.4, latency_ms=81,
                 throughput_vps=13.8, top1={"sthv2": 69.8}),
    ),
)  # fmt: skip

TPS_TABLE2E = Preset(
    name="tps-table2e",
    source="TPS paper, Table 2(e): spatiotemporal attentions (Something-Something V1, PST-T, 32x224²)",
    dataset="sthv1",
    note="'Sparse' has no model here. The paper does not say at which batch its memory column was taken.",
    rows=(
        PaperRow("Avgpool", "swin2d_t", gmacs=72, memory_gb=3.7, top1={"sthv1": 40.6}),
        PaperRow("Joint", "video_swin_t", _JOINT, gmacs=106, memory_gb=20.2, top1={"sthv1": 51.5}),
        PaperRow("Local", "video_swin_t", gmacs=88, memory_gb=11, top1={"sthv1": 49.9}),
        PaperRow("Sparse", None, gmacs=72, memory_gb=4.0, top1={"sthv1": 42.7}),
        PaperRow("Channel-only", "pst_t", {"mixing": "channel"}, gmacs=72, memory_gb=3.7, top1={"sthv1": 51.2}),
        PaperRow("Patch-only", "pst_t", {"mixing": "patch"}, gmacs=72, memory_gb=3.7, top1={"sthv1": 51.8}),
        PaperRow("PST", "pst_t", gmacs=72, memory_gb=3.7, top1={"sthv1": 52.2}),
    ),
)

STSM_TABLE4 = Preset(
    name="stsm-table4",
    source="STSM paper, Table 4 (Kinetics-400, 256², GFLOPs per view of 3 crops x 10 clips)",
    dataset="k400",
    note="Within a backbone and frame count the paper gives the same GFLOPs and parameters to every method.",
    rows=(
        PaperRow("TSN Mb_V2 8f", "tsn_mbv2", frames=8, size=256, gmacs=3.33, top1={"k400": 66.5}),
        PaperRow("TSM+TSN Mb_V2 8f", "tsm_mbv2", frames=8, size=256, gmacs=3.33, top1={"k400": 69.5}),
        PaperRow("STSM+TSN Mb_V2 8f", "stsm_mbv2", frames=8, size=256, gmacs=3.33, top1={"k400": 69.9}),
        PaperRow("TSN R-50 8f", "tsn_r50", frames=8, size=256, gmacs=43.1, top1={"k400": 70.6}),
        PaperRow("TSM+TSN R-50 8f", "tsm_r50", frames=8, size=256, gmacs=43.1, top1={"k400": 74.1}),
        PaperRow("STSM+TSN R-50 8f", "stsm_r50", frames=8, size=256, gmacs=43.1, top1={"k400": 75.0}),
        PaperRow("TSM+TSN R-50 16f", "tsm_r50", frames=16, size=256, gmacs=86.1, top1={"k400": 74.7}),
        PaperRow("STSM+TSN R-50 16f", "stsm_r50", frames=16, size=256, gmacs=86.1, top1={"k400": 75.8}),
    ),
)

_TDN = "TDN rows read 8 segments of 5 consecutive frames, so their clips have 40 frames (8 go through the ResNet)."


def _stsm_rows(dataset: str, figures: tuple[tuple[Any, ...], ...]) -> tuple[PaperRow, ...]:
    """Rows of an STSM comparison table from ``(label, model, frames, size, gmacs, params_m, top1)``."""
    return tuple(
        PaperRow(label, model, frames=frames, size=size, gmacs=gmacs, params_m=params, top1={dataset: top1})
        for label, model, frames, size, gmacs, params, top1 in figures
    )


STSM_TABLE6 = Preset(
    name="stsm-table6",
    source="STSM paper, Table 6 (Kinetics-400, 8 frames at 256², GFLOPs per view of 3 crops x 10 clips)",
    dataset="k400",
    note="The paper gives no parameter count for TDN. " + _TDN,
    rows=_stsm_rows("k400", (
        ("TSN R-50", "tsn_r50", 8, 256, 43.1, 24.3, 70.6),
        ("TSM R-50", "tsm_r50", 8, 256, 43.1, 24.3, 74.1),
        ("STSM+TSN R-50", "stsm_r50", 8, 256, 43.1, 24.3, 75.0),
        ("TSM+NL R-50", "tsm_r50_nl", 8, 256, 64.6, 31.7, 75.7),
        ("STSM+TSN+NL R-50", "stsm_r50_nl", 8, 256, 64.6, 31.7, 75.9),
        ("TANet R-50", "tanet_r50", 8, 256, 43.1, 25.6, 76.3),
        ("STSM+TANet R-50", "stsm_tanet_r50", 8, 256, 43.1, 25.6, 76.4),
        ("TDN R-50", "tdn_r50", 40, 256, 47, None, 76.5),
        ("STSM+TDN R-50", "stsm_tdn_r50", 40, 256, 47, None, 76.7),
    )),
)  # fmt: skip

STSM_TABLE7 = Preset(
    name="stsm-table7",
    source="STSM paper, Table 7 (Something-Something V2, 8 frames, GFLOPs per view)",
    dataset="sthv2",
    note="TSN (Kinetics-400 pre-trained) and TSM are quoted from ACTION-Net and TSM; TANet and TSM+NL are the STSM "
    "authors' reproductions; the paper gives no parameter count for TDN. " + _TDN,
    rows=_stsm_rows("sthv2", (
        ("TSN R-50", "tsn_r50", 8, 224, 33, 23.8, 27.8),
        ("TSM R-50", "tsm_r50", 8, 224, 33, 23.8, 59.1),
        ("STSM+TSN R-50", "stsm_r50", 8, 256, 43.1, 23.8, 61.3),
        ("TSM+NL R-50", "tsm_r50_nl", 8, 256, 64.6, 31.7, 61.0),
        ("STSM+TSN+NL R-50", "stsm_r50_nl", 8, 256, 64.6, 31.7, 61.2),
        ("TANet R-50", "tanet_r50", 8, 256, 43.1, 25.1, 60.4),
        ("STSM+TANet R-50", "stsm_tanet_r50", 8, 256, 43.1, 25.1, 61.5),
        ("TDN R-50", "tdn_r50", 40, 224, 36, None, 63.8),
        ("STSM+TDN R-50", "stsm_tdn_r50", 40, 224, 36, None, 63.9),
        ("STSM+TDN R-50 256²", "stsm_tdn_r50", 40, 256, 47, None, 64.6),
    )),
)  # fmt: skip

PRESETS: dict[str, Preset] = {p.name: p for p in (TPS_TABLE6, TPS_TABLE2E, STSM_TABLE4, STSM_TABLE6, STSM_TABLE7)}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; raises ``ValueError`` listing the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}") from None
