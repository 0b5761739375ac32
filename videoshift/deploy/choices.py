"""Names that ``videoshift export`` offers as choices, apart from :mod:`~videoshift.deploy.export` so that the
command line parses without importing torch."""

from __future__ import annotations

#: ONNX exporters: ``auto`` tries ``dynamo`` (torch.export) and falls back to ``torchscript`` (tracing).
EXPORTERS: tuple[str, ...] = ("auto", "dynamo", "torchscript")
