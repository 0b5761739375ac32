"""Deployment: whole-model ONNX export and online (streaming) inference of causal shift CNNs.

Names are imported on first use, so that ``videoshift export`` parses its arguments without loading torch.
"""

from __future__ import annotations

from videoshift._lazy import lazy_getattr

_EXPORTS = {
    "ExportResult": "export",
    "export_model": "export",
    "export_module": "export",
    "op_types": "export",
    "parity": "export",
    "StepNet": "stream",
    "Stream": "stream",
    "frame_logits": "stream",
    "make_causal": "stream",
    "streaming_problem": "stream",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_getattr(__name__, _EXPORTS)
