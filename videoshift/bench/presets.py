"""The papers' tables that ``bench models`` measures: views over :mod:`videoshift.models.papers`.

``videoshift bench models --preset NAME`` measures every row that has a model in this package and
prints the paper's figures beside the measured ones. Absolute times from the papers' V100 are not
comparable with another machine's; the ratios to a preset's first row are.

The rows and their figures live in the one table of the papers' numbers; a preset only picks a table and
the dataset whose top-1 is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from videoshift.models.papers import PaperRow, rows


@dataclass(frozen=True)
class Preset:
    """A paper table: its source, the dataset whose top-1 is plotted, and its rows."""

    name: str
    source: str
    dataset: str
    rows: tuple[PaperRow, ...]
    note: str = ""


TPS_TABLE6 = Preset(
    name="tps-table6",
    source="TPS paper, Table 6 (Something-Something V1/V2, 32x224², one NVIDIA V100)",
    dataset="sthv2",
    note="Params are one merged cell per group in the paper. Video-Swin is the 16x7x7 'Joint' window (106 G).",
    rows=rows("TPS", "6"),
)
TPS_TABLE2E = Preset(
    name="tps-table2e",
    source="TPS paper, Table 2(e): spatiotemporal attentions (Something-Something V1, PST-T, 32x224²)",
    dataset="sthv1",
    note="'Sparse' has no model here. The paper does not say at which batch its memory column was taken.",
    rows=rows("TPS", "2(e)"),
)
STSM_TABLE4 = Preset(
    name="stsm-table4",
    source="STSM paper, Table 4 (Kinetics-400, 256², GFLOPs per view of 3 crops x 10 clips)",
    dataset="k400",
    note="Within a backbone and frame count the paper gives the same GFLOPs and parameters to every method.",
    rows=rows("STSM", "4"),
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
