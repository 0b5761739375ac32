"""The one table of the papers' numbers: well-formed, consistent with itself, and buildable row by row."""

import pytest
import torch

from videoshift.models import create_model, is_model, list_models
from videoshift.models.complexity import count_params
from videoshift.models.papers import DATASETS, ROWS, paper_row, paper_setting, rows


def test_rows_are_well_formed():
    assert len({row.key for row in ROWS}) == len(ROWS)
    for row in ROWS:
        assert row.paper in ("TPS", "STSM") and row.top1, row.key
        assert set(row.top1) <= set(DATASETS), row.key
        assert all(20 < value < 100 for value in row.top1.values()), row.key
        assert row.model is None or is_model(row.model), row.key
        assert row.views[0] >= 1 and row.views[1] in (1, 3), row.key
        assert not row.headline or (row.model is not None and not row.kwargs), row.key
        assert paper_row(row.key) is row


def test_numbers_quoted_in_two_tables_agree():
    """The papers print some runs twice (TPS Tables 3 and 6, STSM Tables 4 and 6): the same figures both times."""
    seen: dict[tuple, tuple[float | None, float]] = {}
    checked = 0
    for row in ROWS:
        if row.model is None:
            continue
        for dataset, top1 in row.top1.items():
            key = (row.paper, row.model, tuple(sorted(row.kwargs.items())), row.frames, row.size, dataset, top1)
            if key in seen:
                assert row.gmacs == pytest.approx(seen[key][0], abs=0.02), row.key
                checked += 1
            seen[key] = (row.gmacs, top1)
    assert checked >= 10


def test_every_model_of_the_papers_has_a_setting():
    with_rows = {row.model for row in ROWS if row.model is not None}
    assert with_rows == set(list_models())  # every registered model is in some table of the papers
    assert paper_setting("pst_t").key == "TPS Table 3: PST-T (IN-1K, 3x1)"
    assert paper_setting("stsm_r50").key == "STSM Table 6: STSM+TSN R-50 8f"
    assert paper_setting("no_such_model") is None


def test_tables_keep_the_papers_order():
    assert [row.label for row in rows("TPS", "2(e)")] == [
        "Avgpool", "Joint", "Local", "Sparse", "Channel-only", "Patch-only", "PST",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="no rows"):
        rows("TPS", "99")


@pytest.mark.parametrize("row", [r for r in ROWS if r.model is not None], ids=lambda r: r.key)
def test_rows_build_with_their_arguments(row):
    """Each row's model and keyword arguments build at the paper's input (on the meta device: no memory, no time).

    Parameters are within 3% of the paper's figure where it gives one (TPS Table 6 prints one merged cell per
    group, and 2D Swin has a smaller bias table; the papers count 400 classes for Kinetics, 174 for SSv2).
    """
    classes = 400 if "k400" in row.top1 else 174 if {"sthv1", "sthv2"} & set(row.top1) else 48
    with torch.device("meta"):
        model = create_model(row.model, num_classes=classes, num_frames=row.frames, **row.kwargs)
    if row.params_m is not None:
        assert count_params(model) / 1e6 == pytest.approx(row.params_m, rel=0.03)
