"""The papers' tables as data: rows name real models and agree with the papers' own statements."""

import pytest

from videoshift.bench.presets import PRESETS, get_preset
from videoshift.models import is_model


def _rows():
    return [(preset.name, row) for preset in PRESETS.values() for row in preset.rows]


@pytest.mark.parametrize(("preset", "row"), _rows(), ids=lambda value: getattr(value, "label", value))
def test_rows_name_registered_models(preset, row):
    if row.model is not None:
        assert is_model(row.model), f"{preset} row {row.label!r} names unregistered model {row.model!r}"


def test_every_row_carries_the_figures_of_its_table():
    for preset in PRESETS.values():
        for row in preset.rows:
            assert row.gmacs is not None and preset.dataset in row.top1, row.label
    table6 = get_preset("tps-table6").rows
    assert all(None not in (r.memory_gb, r.latency_ms, r.throughput_vps, r.params_m) for r in table6)


def test_papers_equal_cost_claims_hold_in_the_data():
    # TPS: PST-T costs what 2D Swin-T costs; its Table 2(e) variants that only shift cost the same.
    by_label = {row.label: row for row in get_preset("tps-table2e").rows}
    assert {by_label[k].gmacs for k in ("Avgpool", "Channel-only", "Patch-only", "PST")} == {72}
    # STSM Table 4: same GFLOPs per backbone and frame count, whatever the shift.
    groups: dict[tuple[str, int], set[float]] = {}
    for row in get_preset("stsm-table4").rows:
        groups.setdefault((row.model.split("_")[1], row.frames), set()).add(row.gmacs)
    assert groups == {("mbv2", 8): {3.33}, ("r50", 8): {43.1}, ("r50", 16): {86.1}}


def test_unknown_preset_lists_known():
    with pytest.raises(ValueError, match="tps-table6"):
        get_preset("table6")
