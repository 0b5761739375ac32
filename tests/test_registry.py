import pytest
from torch import nn

from videoshift.models import registry


def test_duplicate_and_unknown_names_raise(monkeypatch):
    monkeypatch.setattr(registry, "_MODEL_ENTRYPOINTS", {})

    @registry.register_model
    def tiny_model(**kwargs):
        return nn.Linear(2, 2)

    with pytest.raises(ValueError, match="already registered"):
        registry.register_model(tiny_model)
    with pytest.raises(ValueError, match="did you mean tiny_model"):
        registry.create_model("tiny_modle")
    assert registry.list_models("tiny*") == ["tiny_model"]
    assert isinstance(registry.create_model("tiny_model"), nn.Linear)
