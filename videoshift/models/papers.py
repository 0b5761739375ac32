"""The papers' numbers, once: every row of the TPS and STSM tables that videoshift holds itself to.

Data only. Model metadata (:func:`paper_setting`), the ``bench models`` presets and the configs' paper top-1 all
read this table. Figures are as printed: "FLOPs"/"GFLOPs" are giga multiply-adds per view, parameters in
millions, memory in GB, latency in ms at batch 1 and throughput in videos/s at batch 4 (TPS Table 6, one V100),
top-1 in %. ``None`` where a paper gives no number. Views are ``(clips, crops)``: the TPS paper writes
"crops × clips", the STSM paper "GFLOPs × crops × clips".
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

DATASETS: tuple[str, ...] = ("sthv1", "sthv2", "k400", "diving48")
"""Dataset names used in ``top1``: Something-Something V1/V2, Kinetics-400, Diving-48 V2."""


@dataclass(frozen=True)
class PaperRow:
    """One row of a paper's table.

    Attributes:
        paper: ``"TPS"`` or ``"STSM"``.
        table: the table's number as printed, e.g. ``"3"`` or ``"2(e)"``.
        label: the row's name in the table (pre-training and views added where a table repeats a model).
        model: registered model name that builds this row, or ``None`` if videoshift has none.
        kwargs: keyword arguments for ``create_model`` that make the row's variant.
        frames: input frames; ``size``: input height and width.
        views: test views as ``(clips, crops)``.
        top1: top-1 per dataset of :data:`DATASETS`.
        headline: a main result that a config in ``configs/`` reproduces (one per dataset in ``top1``).
    """

    paper: str
    table: str
    label: str
    model: str | None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    frames: int = 32
    size: int = 224
    views: tuple[int, int] = (1, 1)
    gmacs: float | None = None
    params_m: float | None = None
    memory_gb: float | None = None
    latency_ms: float | None = None
    throughput_vps: float | None = None
    top1: Mapping[str, float] = field(default_factory=dict)
    headline: bool = False

    @property
    def key(self) -> str:
        """The row's unique name, as configs refer to it: ``"TPS Table 3: PST-T (IN-1K, 3x1)"``."""
        return f"{self.paper} Table {self.table}: {self.label}"


_JOINT = MappingProxyType({"window_size": (16, 7, 7)})  # Video Swin, one window over all 16 temporal tokens
_TPS_K400 = {"views": (4, 3)}  # TPS Tables 4 and 7: 3 crops x 4 clips
_STSM_K400 = {"frames": 8, "size": 256, "views": (10, 3)}  # STSM Tables 2-4, 6: GFLOPs x 3 crops x 10 clips
# TDN reads 8 segments of 5 consecutive frames: its clips have 40 frames, of which 8 go through the ResNet.
_TDN_K400 = {**_STSM_K400, "frames": 40}


_tps = functools.partial(PaperRow, "TPS")
_stsm = functools.partial(PaperRow, "STSM")


ROWS: tuple[PaperRow, ...] = (
    # TPS Table 3: Something-Something V1 & V2, 32 frames, 224².
    _tps("3", "PST-T (IN-1K, 1x1)", "pst_t", gmacs=72, params_m=28.5, top1={"sthv1": 52.2, "sthv2": 65.7}),
    _tps("3", "PST-T (IN-1K, 3x1)", "pst_t", views=(1, 3), gmacs=72, params_m=28.5, top1={"sthv1": 52.8, "sthv2": 66.4}, headline=True),
    _tps("3", "PST-T (K400, 1x1)", "pst_t", gmacs=72, params_m=28.5, top1={"sthv1": 53.2, "sthv2": 66.7}),
    _tps("3", "PST-T (K400, 3x1)", "pst_t", views=(1, 3), gmacs=72, params_m=28.5, top1={"sthv1": 53.6, "sthv2": 67.3}),
    _tps("3", "PST-T† (K400, 3x1)", "pst_t_tw2", views=(1, 3), gmacs=74, params_m=28.5, top1={"sthv1": 54.0, "sthv2": 67.9}, headline=True),
    _tps("3", "PST-T† (IN-21K, 1x1)", "pst_t_tw2", gmacs=74, params_m=28.5, top1={"sthv1": 55.3, "sthv2": 66.7}),
    _tps("3", "PST-T† (IN-21K, 3x1)", "pst_t_tw2", views=(1, 3), gmacs=74, params_m=28.5, top1={"sthv1": 55.6, "sthv2": 67.4}),
    _tps("3", "PST-B (K400, 1x1)", "pst_b", gmacs=247, params_m=88.8, top1={"sthv1": 57.4, "sthv2": 68.7}),
    _tps("3", "PST-B (K400, 3x1)", "pst_b", views=(1, 3), gmacs=247, params_m=88.8, top1={"sthv1": 57.7, "sthv2": 69.2}, headline=True),
    _tps("3", "PST-B† (K400, 3x1)", "pst_b_tw2", views=(1, 3), gmacs=252, params_m=88.8, top1={"sthv1": 58.3, "sthv2": 69.8}, headline=True),
    _tps("3", "Video-Swin (K400, 3x1)", "video_swin_b", _JOINT, views=(1, 3), gmacs=321, params_m=88.1, top1={"sthv2": 69.6}),
    # TPS Table 4: Kinetics-400, 32 frames (stride 2), 224², 3 crops x 4 clips.
    _tps("4", "Video-Swin (IN-21K)", "video_swin_b", **_TPS_K400, gmacs=282, params_m=88.1, top1={"k400": 82.7}),
    _tps("4", "PST-T (IN-1K)", "pst_t", **_TPS_K400, gmacs=72, params_m=28.5, top1={"k400": 78.2}, headline=True),
    _tps("4", "PST-T† (IN-1K)", "pst_t_tw2", **_TPS_K400, gmacs=74, params_m=28.5, top1={"k400": 78.6}, headline=True),
    _tps("4", "PST-B (IN-21K)", "pst_b", **_TPS_K400, gmacs=247, params_m=88.8, top1={"k400": 81.8}, headline=True),
    _tps("4", "PST-B† (IN-21K)", "pst_b_tw2", **_TPS_K400, gmacs=252, params_m=88.8, top1={"k400": 82.5}, headline=True),
    # TPS Table 5: Diving-48 V2, 32 frames, 224², 3 crops x 1 clip.
    _tps("5", "PST-T (IN-1K)", "pst_t", views=(1, 3), gmacs=72, top1={"diving48": 79.2}, headline=True),
    _tps("5", "PST-T† (K400)", "pst_t_tw2", views=(1, 3), gmacs=74, top1={"diving48": 82.1}, headline=True),
    _tps("5", "PST-B (IN-21K)", "pst_b", views=(1, 3), gmacs=247, top1={"diving48": 83.6}, headline=True),
    _tps("5", "PST-B† (K400)", "pst_b_tw2", views=(1, 3), gmacs=252, top1={"diving48": 86.0}, headline=True),
    # TPS Table 6: cost on one V100, 32x224² (parameters are one merged cell per group in the paper).
    _tps("6", "2D Swin-T", "swin2d_t", gmacs=72, params_m=28.5, memory_gb=1.7, latency_ms=29, throughput_vps=35.5, top1={"sthv1": 40.6, "sthv2": 56.7}),
    _tps("6", "Video-Swin-T", "video_swin_t", _JOINT, gmacs=106, params_m=28.5, memory_gb=3.0, latency_ms=62, throughput_vps=17.7, top1={"sthv1": 51.5, "sthv2": 65.7}),
    _tps("6", "PST-T", "pst_t", gmacs=72, params_m=28.5, memory_gb=1.7, latency_ms=31, throughput_vps=34.7, top1={"sthv1": 52.2, "sthv2": 65.7}),
    _tps("6", "2D Swin-B", "swin2d_b", gmacs=247, params_m=88.8, memory_gb=2.2, latency_ms=71, throughput_vps=15.5, top1={"sthv2": 59.5}),
    _tps("6", "Video-Swin-B", "video_swin_b", _JOINT, gmacs=321, params_m=88.8, memory_gb=3.6, latency_ms=147, throughput_vps=7.9, top1={"sthv2": 69.6}),
    _tps("6", "PST-B†", "pst_b_tw2", gmacs=252, params_m=88.8, memory_gb=2.4, latency_ms=81, throughput_vps=13.8, top1={"sthv2": 69.8}),
    # TPS Table 2(e): spatiotemporal attentions, PST-T on Something-Something V1, 32x224².
    _tps("2(e)", "Avgpool", "swin2d_t", gmacs=72, memory_gb=3.7, top1={"sthv1": 40.6}),
    _tps("2(e)", "Joint", "video_swin_t", _JOINT, gmacs=106, memory_gb=20.2, top1={"sthv1": 51.5}),
    _tps("2(e)", "Local", "video_swin_t", gmacs=88, memory_gb=11, top1={"sthv1": 49.9}),
    _tps("2(e)", "Sparse", None, gmacs=72, memory_gb=4.0, top1={"sthv1": 42.7}),
    _tps("2(e)", "Channel-only", "pst_t", {"mixing": "channel"}, gmacs=72, memory_gb=3.7, top1={"sthv1": 51.2}),
    _tps("2(e)", "Patch-only", "pst_t", {"mixing": "patch"}, gmacs=72, memory_gb=3.7, top1={"sthv1": 51.8}),
    _tps("2(e)", "PST", "pst_t", gmacs=72, memory_gb=3.7, top1={"sthv1": 52.2}),
    # TPS Table 7 (appendix): DeiT-S on Kinetics-400, 16 frames (stride 2), 224², 3 crops x 4 clips.
    _tps("7", "DeiT-S", "deit_s_2d", frames=16, **_TPS_K400, gmacs=74, params_m=22, top1={"k400": 73.0}, headline=True),
    _tps("7", "DeiT-S-TSM", "deit_s_tsm", frames=16, **_TPS_K400, gmacs=74, params_m=22, top1={"k400": 74.8}, headline=True),
    _tps("7", "DeiT-S-TPS", "deit_s_tps", frames=16, **_TPS_K400, gmacs=74, params_m=22, top1={"k400": 75.3}, headline=True),
    # STSM Table 6: Kinetics-400, 256², 3 crops x 10 clips (TSN/TSM rows quoted from the TSM paper).
    _stsm("6", "TSN R-50 8f", "tsn_r50", **_STSM_K400, gmacs=43.1, params_m=24.3, top1={"k400": 70.6}, headline=True),
    _stsm("6", "TSM R-50 8f", "tsm_r50", **_STSM_K400, gmacs=43.1, params_m=24.3, top1={"k400": 74.1}, headline=True),
    _stsm("6", "STSM+TSN R-50 8f", "stsm_r50", **_STSM_K400, gmacs=43.1, params_m=24.3, top1={"k400": 75.0}, headline=True),
    _stsm("6", "TSM R-50 16f", "tsm_r50", **{**_STSM_K400, "frames": 16}, gmacs=86.1, params_m=24.3, top1={"k400": 74.7}),
    _stsm("6", "STSM+TSN R-50 16f", "stsm_r50", **{**_STSM_K400, "frames": 16}, gmacs=86.1, params_m=24.3, top1={"k400": 75.8}),
    _stsm("6", "TSN+Mb_V2", "tsn_mbv2", **_STSM_K400, gmacs=3.34, params_m=2.74, top1={"k400": 66.5}, headline=True),
    _stsm("6", "TSM+Mb_V2", "tsm_mbv2", **_STSM_K400, gmacs=3.34, params_m=2.74, top1={"k400": 69.5}, headline=True),
    _stsm("6", "STSM+Mb_V2", "stsm_mbv2", **_STSM_K400, gmacs=3.34, params_m=2.74, top1={"k400": 69.9}, headline=True),
    _stsm("6", "TSM+NL R-50", "tsm_r50_nl", **_STSM_K400, gmacs=64.6, params_m=31.7, top1={"k400": 75.7}, headline=True),
    _stsm("6", "STSM+TSN+NL R-50", "stsm_r50_nl", **_STSM_K400, gmacs=64.6, params_m=31.7, top1={"k400": 75.9}, headline=True),
    _stsm("6", "TANet R-50", "tanet_r50", **_STSM_K400, gmacs=43.1, params_m=25.6, top1={"k400": 76.3}, headline=True),
    _stsm("6", "STSM+TANet R-50", "stsm_tanet_r50", **_STSM_K400, gmacs=43.1, params_m=25.6, top1={"k400": 76.4}, headline=True),
    _stsm("6", "TDN R-50", "tdn_r50", **_TDN_K400, gmacs=47, top1={"k400": 76.5}, headline=True),
    _stsm("6", "STSM+TDN R-50", "stsm_tdn_r50", **_TDN_K400, gmacs=47, top1={"k400": 76.7}, headline=True),
    # STSM Table 7: Something-Something V2 (TSN/TSM rows quoted from ACTION-Net and TSM, at 224² and 3x2 views).
    _stsm("7", "TSN R-50 8f (K400)", "tsn_r50", frames=8, views=(2, 3), gmacs=33, params_m=23.8, top1={"sthv2": 27.8}, headline=True),
    _stsm("7", "TSN R-50 16f (K400)", "tsn_r50", frames=16, views=(2, 3), gmacs=65.9, params_m=23.8, top1={"sthv2": 30.0}),
    _stsm("7", "TSM+Mb_V2", "tsm_mbv2", frames=8, views=(2, 3), gmacs=2.56, params_m=2.45, top1={"sthv2": 54.9}, headline=True),
    _stsm("7", "TSM R-50 8f", "tsm_r50", frames=8, views=(2, 3), gmacs=33, params_m=23.8, top1={"sthv2": 59.1}, headline=True),
    _stsm("7", "TSM R-50 16f", "tsm_r50", frames=16, views=(2, 3), gmacs=65.9, params_m=23.8, top1={"sthv2": 63.4}),
    _stsm("7", "TSM+NL R-50 (reproduced)", "tsm_r50_nl", frames=8, size=256, views=(1, 3), gmacs=64.6, params_m=31.7, top1={"sthv2": 61.0}, headline=True),
    _stsm("7", "TANet R-50 (reproduced)", "tanet_r50", frames=8, size=256, views=(1, 3), gmacs=43.1, params_m=25.1, top1={"sthv2": 60.4}, headline=True),
    _stsm("7", "TDN R-50", "tdn_r50", frames=40, gmacs=36, top1={"sthv2": 63.8}, headline=True),
    _stsm("7", "STSM+Mb_V2 8f", "stsm_mbv2", frames=8, size=256, views=(1, 3), gmacs=3.34, params_m=2.45, top1={"sthv2": 56.3}, headline=True),
    _stsm("7", "STSM+Mb_V2 16f", "stsm_mbv2", frames=16, size=256, views=(1, 3), gmacs=6.67, params_m=2.45, top1={"sthv2": 59.2}),
    _stsm("7", "STSM+TSN+NL R-50", "stsm_r50_nl", frames=8, size=256, views=(1, 3), gmacs=64.6, params_m=31.7, top1={"sthv2": 61.2}, headline=True),
    _stsm("7", "STSM+TSN R-50 8f", "stsm_r50", frames=8, size=256, views=(1, 3), gmacs=43.1, params_m=23.8, top1={"sthv2": 61.3}, headline=True),
    _stsm("7", "STSM+TANet R-50", "stsm_tanet_r50", frames=8, size=256, views=(1, 3), gmacs=43.1, params_m=25.1, top1={"sthv2": 61.5}, headline=True),
    _stsm("7", "STSM+TSN R-50 16f", "stsm_r50", frames=16, size=256, views=(1, 3), gmacs=86.1, params_m=23.8, top1={"sthv2": 63.5}),
    _stsm("7", "STSM+TDN R-50 224", "stsm_tdn_r50", frames=40, gmacs=36, top1={"sthv2": 63.9}, headline=True),
    _stsm("7", "STSM+TDN R-50 256", "stsm_tdn_r50", frames=40, size=256, gmacs=47, top1={"sthv2": 64.6}, headline=True),
    # STSM Table 4: Kinetics-400 by backbone and frames (the same runs as Table 6; GFLOPs printed as 3.33 here).
    _stsm("4", "TSN Mb_V2 8f", "tsn_mbv2", **_STSM_K400, gmacs=3.33, top1={"k400": 66.5}),
    _stsm("4", "TSM+TSN Mb_V2 8f", "tsm_mbv2", **_STSM_K400, gmacs=3.33, top1={"k400": 69.5}),
    _stsm("4", "STSM+TSN Mb_V2 8f", "stsm_mbv2", **_STSM_K400, gmacs=3.33, top1={"k400": 69.9}),
    _stsm("4", "TSN R-50 8f", "tsn_r50", **_STSM_K400, gmacs=43.1, top1={"k400": 70.6}),
    _stsm("4", "TSM+TSN R-50 8f", "tsm_r50", **_STSM_K400, gmacs=43.1, top1={"k400": 74.1}),
    _stsm("4", "STSM+TSN R-50 8f", "stsm_r50", **_STSM_K400, gmacs=43.1, top1={"k400": 75.0}),
    _stsm("4", "TSM+TSN R-50 16f", "tsm_r50", **{**_STSM_K400, "frames": 16}, gmacs=86.1, top1={"k400": 74.7}),
    _stsm("4", "STSM+TSN R-50 16f", "stsm_r50", **{**_STSM_K400, "frames": 16}, gmacs=86.1, top1={"k400": 75.8}),
    # STSM Tables 2-3: shift dimensions on R-50, Kinetics-400 (Table 2 at alpha 1/4, Table 3 at 3/8).
    _stsm("2", "H", "stsm_r50", {"alpha": 1 / 4, "dims": "H"}, **_STSM_K400, gmacs=43.1, params_m=24.3, top1={"k400": 72.25}),
    _stsm("2", "W", "stsm_r50", {"alpha": 1 / 4, "dims": "W"}, **_STSM_K400, gmacs=43.1, params_m=24.3, top1={"k400": 72.46}),
    _stsm("2", "H+W", "stsm_r50", {"alpha": 1 / 4, "dims": "H+W"}, **_STSM_K400, gmacs=43.1, params_m=24.3, top1={"k400": 72.53}),
    _stsm("2", "HW", "stsm_r50", {"alpha": 1 / 4, "dims": "HW"}, **_STSM_K400, gmacs=43.1, params_m=24.3, top1={"k400": 72.36}),
    _stsm("3", "T+H+W", "stsm_r50", {"dims": "T+H+W"}, **_STSM_K400, gmacs=43.1, params_m=24.3, top1={"k400": 75.04}),
    _stsm("3", "T+HW", "stsm_r50", {"dims": "T+HW"}, **_STSM_K400, gmacs=43.1, params_m=24.3, top1={"k400": 74.68}),
    _stsm("3", "T+H+W+HW", "stsm_r50", {"dims": "T+H+W+HW"}, **_STSM_K400, gmacs=43.1, params_m=24.3, top1={"k400": 74.5}),
    _stsm("3", "TH+TW+HW", "stsm_r50", {"dims": "TH+TW+HW"}, **_STSM_K400, gmacs=43.1, params_m=24.3, top1={"k400": 74.95}),
    _stsm("3", "T+H+W+TH+TW+HW", "stsm_r50", {"dims": "T+H+W+TH+TW+HW"}, **_STSM_K400, gmacs=43.1, params_m=24.3, top1={"k400": 74.84}),
)  # fmt: skip

_BY_KEY: dict[str, PaperRow] = {row.key: row for row in ROWS}


def paper_row(key: str) -> PaperRow:
    """The row named ``key`` (see :attr:`PaperRow.key`); raises ``ValueError`` with close matches."""
    if not isinstance(key, str):
        raise ValueError(f"a paper row is named by a string such as {ROWS[0].key!r}, got {key!r}")
    try:
        return _BY_KEY[key]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(key, _BY_KEY, n=3, cutoff=0.5)
        raise ValueError(f"no paper row {key!r}" + (f"; did you mean {', '.join(close)}?" if close else "")) from None


def rows(paper: str, table: str) -> tuple[PaperRow, ...]:
    """The rows of one table, in the paper's order."""
    found = tuple(row for row in ROWS if row.paper == paper and row.table == table)
    if not found:
        raise ValueError(f"no rows for {paper} Table {table}")
    return found


def paper_setting(model: str) -> PaperRow | None:
    """The setting a model is held to: its first headline row (else its first row) built without extra arguments."""
    own = [row for row in ROWS if row.model == model and not row.kwargs]
    return next((row for row in own if row.headline), own[0] if own else None)
