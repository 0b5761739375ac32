"""The weights registry: every entry complete, and its params / GMACs those of the model it builds."""

import re

import pytest
import torch

from videoshift.models import create_model, papers
from videoshift.models.complexity import count_macs, count_params
from videoshift.models.weights import LABEL_MAPS, VERIFICATIONS, WEIGHTS, get_weights, read_shipped_label_map

TAG = re.compile(r"^[a-z0-9_]+\.[a-z0-9]+_[a-z0-9_]+_\d+f$")


@pytest.mark.parametrize("spec", WEIGHTS, ids=lambda s: s.tag)
def test_every_entry_is_complete_and_consistent(spec):
    assert TAG.match(spec.tag) and spec.tag.split(".")[0] == spec.model
    assert spec.verification in VERIFICATIONS and spec.license and spec.page.startswith("https://")
    assert spec.source.repository and spec.source.listing and spec.source.file_name
    assert all(url.startswith("https://") for url in spec.urls)
    if spec.verification == "sha256-prefix":  # MMAction2: the prefix is the one in the published file name
        assert re.fullmatch(r"[0-9a-f]{8}", spec.sha256_prefix) and spec.urls[0].endswith(f"-{spec.sha256_prefix}.pth")
        assert spec.source.upstream_checksum == spec.sha256_prefix and spec.downloadable
    if spec.verification == "none":  # nothing published to check: never downloaded automatically
        assert spec.sha256 is None and spec.size is None and not spec.downloadable
    assert spec.protocol.label_map in LABEL_MAPS and len(spec.class_names()) == spec.num_classes
    assert spec.protocol.views[0] >= 1 and spec.protocol.views[1] in (1, 3, 10)
    assert spec.measured == {}  # videoshift's own measurements stay apart from the upstream's numbers
    if spec.paper_row is not None:
        assert papers.paper_row(spec.paper_row).model == spec.model


@pytest.mark.parametrize("spec", WEIGHTS, ids=lambda s: s.tag)
def test_params_and_gmacs_are_those_of_the_built_model(spec):
    with torch.device("meta"):
        model = create_model(spec.model, **spec.kwargs)
        clip = torch.empty(1, 3, spec.protocol.frames, spec.protocol.input_size, spec.protocol.input_size)
    assert count_params(model) == spec.params
    assert count_macs(model, clip) / 1e9 == pytest.approx(spec.gmacs, rel=0.01)


def test_the_protocol_becomes_data_settings():
    spec = get_weights("tsm_r50.k400_mmaction2_8f")
    data = spec.protocol.data_config()
    assert data["test_sampling"] == {"type": "tsn", "num_frames": 8, "num_clips": 1}
    assert data["transform"]["test_crops"] == 10 and data["transform"]["input_size"] == 224


def test_tags_resolve_by_short_name_and_unknown_ones_suggest():
    assert get_weights("k400_mmaction2_8f", "tsm_r50").tag == "tsm_r50.k400_mmaction2_8f"
    with pytest.raises(ValueError, match=r"did you mean tsm_r50\.k400_mmaction2_8f"):
        get_weights("tsm_r50.k400_mmaction_8f")
    with pytest.raises(ValueError, match="for model 'tsm_r50'"):
        get_weights("tsm_r50.k400_mmaction2_8f", "tsn_r50")
    with pytest.raises(ValueError, match="weights"):
        create_model("tsn_r50", pretrained="tsm_r50.k400_mmaction2_8f")


def test_shipped_label_maps():
    k400 = read_shipped_label_map("kinetics400")
    assert len(k400) == 400 and k400[6] == "arm wrestling"
    assert len(read_shipped_label_map("sthv2")) == 174
    with pytest.raises(ValueError, match="shipped"):
        read_shipped_label_map("imagenet")


def test_every_paper_family_with_published_weights_has_an_entry():
    families = {spec.model.split("_")[0] for spec in WEIGHTS}
    assert {"tsn", "tsm", "tanet", "tdn", "video"} <= families
