"""The one ``KEY=VALUE`` parser of the command line, against hand-written expectations."""

import pytest

from videoshift.assignments import parse_assignment, parse_assignments, parse_targeted_assignments


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("train.epochs=3", ("train.epochs", 3)),
        ("optim.lr=1e-3", ("optim.lr", 0.001)),  # YAML 1.1 alone would give the string '1e-3'
        ("lr=-2.5E+2", ("lr", -250.0)),
        ("alpha=0.375", ("alpha", 0.375)),
        ("causal=true", ("causal", True)),
        ("causal=False", ("causal", False)),
        ("clip=null", ("clip", None)),
        ("clip=", ("clip", None)),
        ("window_size=[16, 7, 7]", ("window_size", [16, 7, 7])),
        ("betas=[0.9,1e-3]", ("betas", [0.9, 0.001])),
        ("tam={alpha: 2}", ("tam", {"alpha": 2})),
        ("backbone=resnet18", ("backbone", "resnet18")),
        ("dims=T+H+W", ("dims", "T+H+W")),
        ("name='3'", ("name", "3")),
        (" key = a=b", ("key", "a=b")),  # the first '=' splits; the key is stripped
    ],
)
def test_values_follow_the_set_rules(item, expected):
    key, value = parse_assignment(item)
    assert (key, value) == expected
    assert type(value) is type(expected[1])  # 1 is not True, 0.001 is not '1e-3'


def test_dotted_keys_nest_and_later_items_win():
    items = ["model.kwargs.depths=[1, 1]", "model.name=pst_t", "lr=1", "lr=2", "model.kwargs={rpe: general}"]
    assert parse_assignments(items) == {
        "model": {"kwargs": {"depths": [1, 1], "rpe": "general"}, "name": "pst_t"},  # a mapping merges
        "lr": 2,
    }


def test_targeted_assignments_group_by_target():
    items = ["video_swin_t:window_size=[16,7,7]", "video_swin_t:rpe=general", "tsm_r50:lr=1e-3", "m:a=x:y"]
    assert parse_targeted_assignments(items) == {
        "video_swin_t": {"window_size": [16, 7, 7], "rpe": "general"},
        "tsm_r50": {"lr": 0.001},
        "m": {"a": "x:y"},
    }


@pytest.mark.parametrize("item", ["epochs", "=3", " =3", "a..b=1", ".a=1", "a=[1, 2", "a={b: 1"])
def test_malformed_items_are_named(item):
    with pytest.raises(ValueError) as info:
        parse_assignment(item)
    assert repr(item) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("item", ["window_size=3", ":a=1", "m:=1", "m:a", "m:a..b=1", "m:a=[1"])
def test_malformed_targeted_items_are_named(item):
    with pytest.raises(ValueError) as info:
        parse_targeted_assignments([item])
    assert repr(item) in str(info.value)


def test_a_key_through_a_value_is_refused():
    with pytest.raises(ValueError, match="'a' is not a section"):
        parse_assignments(["a=1", "a.b=2"])
