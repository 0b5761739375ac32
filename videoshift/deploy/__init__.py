"""Deployment: whole-model ONNX export and online (streaming) inference of causal shift CNNs."""

from videoshift.deploy.export import ExportResult, export_model, export_module, load_model, op_types, parity
from videoshift.deploy.stream import StepNet, Stream, frame_logits, make_causal, streaming_problem

__all__ = [
    "ExportResult",
    "StepNet",
    "Stream",
    "export_model",
    "export_module",
    "frame_logits",
    "load_model",
    "make_causal",
    "op_types",
    "parity",
    "streaming_problem",
]
