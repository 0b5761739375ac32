import engine_standins
import pytest


@pytest.fixture
def standin_model(monkeypatch):
    """Register the stand-in recognizer for the duration of a test."""
    engine_standins.register(monkeypatch)
    return engine_standins.MODEL_NAME
