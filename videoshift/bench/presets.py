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


STSM_TABLE6 = Preset(
    name="stsm-table6",
    source="STSM paper, Table 6 (Kinetics-400, 8 frames at 256², GFLOPs per view of 3 crops x 10 clips)",
    dataset="k400",
    note="The paper gives no parameter count for TDN. " + _TDN,
    rows=rows("STSM", "6"),
)

STSM_TABLE7 = Preset(
    name="stsm-table7",
    source="STSM paper, Table 7 (Something-Something V2, 8 frames, GFLOPs per view)",
    dataset="sthv2",
    note="TSN (Kinetics-400 pre-trained) and TSM are quoted from ACTION-Net and TSM; TANet and TSM+NL are the STSM "
    "authors' reproductions; the paper gives no parameter count for TDN. " + _TDN,
    rows=rows("STSM", "7"),
)

PRESETS: dict[str, Preset] = {p.name: p for p in (TPS_TABLE6, TPS_TABLE2E, STSM_TABLE4, STSM_TABLE6, STSM_TABLE7)}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; raises ``ValueError`` listing the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}") from None
