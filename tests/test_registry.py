import pytest
from torch import nn

from videoshift.models import registry


def test_duplicate_and_unknown_names_raise(monkeypatch):
    registry.list_models()  # the built-in models register on the first lookup: not into the empty stand-in
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


def test_keywords_of_a_shift_cnn_are_its_own_and_its_constructors():
    assert registry.model_keywords("tsm_r50") == {
        *("backbone", "shift_div", "causal"),  # tsm_r50's own
        *("num_classes", "num_frames", "shift_layer", "temporal_pool", "non_local", "non_local_mode"),  # ShiftCNN's
        *("dropout", "drop_path_rate"),
    }


def test_keywords_follow_super_init_and_declared_targets(monkeypatch):
    monkeypatch.setattr(registry, "_MODEL_ENTRYPOINTS", {})

    class Base(nn.Module):
        def __init__(self, width: int = 2, *, depth: int = 1) -> None:
            super().__init__()

    class Child(Base):
        def __init__(self, *, frames: int = 8, **kwargs) -> None:
            super().__init__(**kwargs)

    def build(kind: str, *, num_classes: int = 3, **kwargs) -> nn.Module:
        return Child(**kwargs)

    @registry.register_model(kwargs_to=(build, Child, "extra"))
    def declared(**kwargs):
        return build("a", **kwargs)

    @registry.register_model
    def undeclared(scale: float = 1.0, **kwargs):
        return Child(**kwargs)

    # build's positional ``kind`` is the entrypoint's to fill; Base.__init__ is reached through Child's **kwargs
    assert registry.model_keywords("declared") == {"num_classes", "frames", "width", "depth", "extra"}
    assert registry.model_keywords("undeclared") is None  # **kwargs that go nobody knows where: not checked
    with pytest.raises(TypeError, match="'anything'"):  # Python's own error, raised by Base.__init__
        registry.create_model("undeclared", anything=1)
    with pytest.raises(ValueError, match=r"'widht' \(did you mean width\?\); it takes: width, "):
        registry.create_model("declared", widht=3)


def test_every_builtin_config_and_weights_spec_passes_the_keyword_check():
    from builtin_configs import CONFIG_PATHS

    from videoshift.engine.config import experiment_configs, load_config
    from videoshift.models.weights import list_weights

    calls = [(spec.model, dict(spec.kwargs)) for spec in list_weights()]
    for path in CONFIG_PATHS:
        for run in experiment_configs(load_config(path)):
            calls.append((run["model"]["name"], dict(run["model"]["kwargs"] or {})))
    assert len(calls) > len(CONFIG_PATHS)
    for name, kwargs in calls:
        registry.check_model_kwargs(name, kwargs)  # raises on a keyword the model does not take
