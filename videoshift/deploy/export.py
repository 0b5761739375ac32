"""Whole-model ONNX export of every registered recognizer, and the parity check against PyTorch.

Exporter: ``torch.onnx.export(..., dynamo=True)``, the exporter current PyTorch recommends (it
needs ``onnxscript``: ``pip install videoshift[deploy]``). Every registered family (shift CNNs
with and without non-local blocks, Swin / Video Swin / PST, DeiT) exports with it. Should it fail
on a model (a family registered later, an older PyTorch), ``exporter="auto"`` falls back to the
TorchScript exporter and says so in the result and on the log.

Shapes: the batch stays dynamic where the model allows; the frame count T and the spatial size are fixed at export. The
shift operators are rendered as one gather with a constant index built for one clip's (T, C, H, W)
layout, the Swin window layouts and relative-position tables are constants of the token grid, and
the CNN consensus groups frames by T: a graph for another T or size would need other constants.

The model runs once eagerly before export, so that the cached index tables (Swin window layouts,
shift plans) exist as real tensors and the exporter embeds them as constants instead of tracing
the index arithmetic.
"""

from __future__ import annotations

import inspect
import io
import logging
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from videoshift.deploy.choices import EXPORTERS

log = logging.getLogger("videoshift.deploy")

DYNAMO_OPSET = 18
TORCHSCRIPT_OPSET = 17
SCATTER_OPS = frozenset({"Scatter", "ScatterND", "ScatterElements"})


@dataclass
class ExportResult:
    """What was written: the file, the exporter that produced it, and any fallback note."""

    path: Path
    exporter: str
    opset: int
    notes: list[str] = field(default_factory=list)
    dynamic_batch: bool = True


def _reason(error: BaseException) -> str:
    """The innermost cause of an exporter error, on one line without terminal colours."""
    while error.__cause__ is not None:
        error = error.__cause__
    first = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip().splitlines()[:1]
    return f"{type(error).__name__}: {first[0][:160] if first else ''}".rstrip(": ")


def _batch_dynamic_shapes(module: nn.Module, count: int) -> tuple[Any, ...]:
    """Dimension 0 of every argument dynamic, nested as ``forward``'s signature (``*args`` as one tuple)."""
    batch = torch.export.Dim("batch", min=1, max=1024)
    parameters = inspect.signature(module.forward).parameters.values()
    fixed = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)
    var = any(p.kind == p.VAR_POSITIONAL for p in parameters)
    specs = tuple({0: batch} for _ in range(min(fixed, count)))
    return (*specs, tuple({0: batch} for _ in range(count - fixed))) if var else specs


def _export_once(
    module: nn.Module,
    args: tuple[torch.Tensor, ...],
    target: str | Path | io.BytesIO,
    exporter: str,
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_batch: bool,
) -> int:
    """One ``torch.onnx.export`` call with ``exporter`` (``"dynamo"`` or ``"torchscript"``); returns the opset."""
    common: dict[str, Any] = {"input_names": list(input_names), "output_names": list(output_names)}
    if exporter == "dynamo":
        if dynamic_batch:
            common["dynamic_shapes"] = _batch_dynamic_shapes(module, len(args))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module, args, target, dynamo=True, opset_version=DYNAMO_OPSET, verbose=False, report=False, **common
            )
        return DYNAMO_OPSET
    if dynamic_batch:
        common["dynamic_axes"] = {name: {0: "batch"} for name in (*input_names, *output_names)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, target, dynamo=False, opset_version=TORCHSCRIPT_OPSET, **common)
    return TORCHSCRIPT_OPSET


def export_module(
    module: nn.Module,
    args: tuple[torch.Tensor, ...],
    path: str | Path,
    *,
    input_names: Sequence[str],
    output_names: Sequence[str],
    exporter: str = "auto",
    dynamic_batch: bool = True,
) -> ExportResult:
    """Export ``module(*args)`` to ``path``; ``exporter="auto"`` falls back as the module docstring says (noted)."""
    if exporter not in EXPORTERS:
        raise ValueError(f"exporter must be one of {EXPORTERS}, got {exporter!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    module = module.eval()
    with torch.no_grad():
        module(*args)  # fills the index caches with real tensors (see the module docstring)
    names = {"input_names": input_names, "output_names": output_names}
    notes: list[str] = []
    # auto: dynamo with a dynamic batch; dynamo with the batch fixed (a model whose operator attributes
    # depend on the batch, e.g. TANet's grouped convolution with batch x channels groups); TorchScript.
    attempts = [("dynamo", dynamic_batch)] + ([("dynamo", False)] if dynamic_batch else [])
    attempts = attempts if exporter != "torchscript" else []
    for number, (name, dynamic) in enumerate(attempts):
        try:
            opset = _export_once(module, args, path, name, dynamic_batch=dynamic, **names)
            return ExportResult(path, name, opset, notes, dynamic)
        except Exception as error:  # the exporter raises many types; any of them means: fall back
            if exporter == "dynamo" and number == len(attempts) - 1:
                raise
            reason = _reason(error)
            batch = "dynamic batch" if dynamic else f"batch fixed at {args[0].shape[0]}"
            notes.append(f"dynamo exporter failed with a {batch} ({reason})")
            log.warning("%s: %s", type(module).__name__, notes[-1])
    if notes:
        notes.append("used the TorchScript exporter")
    opset = _export_once(module, args, path, "torchscript", dynamic_batch=dynamic_batch, **names)
    return ExportResult(path, "torchscript", opset, notes, dynamic_batch)


def export_model(
    model: nn.Module,
    path: str | Path,
    *,
    frames: int,
    size: int | tuple[int, int],
    batch: int = 1,
    exporter: str = "auto",
    dynamic_batch: bool = True,
) -> ExportResult:
    """Export a recognizer ``(B, 3, T, H, W) → (B, classes)`` to ONNX with inputs ``clip``, output ``logits``."""
    height, width = (size, size) if isinstance(size, int) else size
    clip = torch.randn(batch, 3, frames, height, width, generator=torch.Generator().manual_seed(0))
    return export_module(
        model,
        (clip,),
        path,
        input_names=["clip"],
        output_names=["logits"],
        exporter=exporter,
        dynamic_batch=dynamic_batch,
    )


def onnx_session(path: str | Path, threads: int | None = None) -> Any:
    """An ONNX Runtime CPU session for ``path`` with ``threads`` threads (default: as many as torch uses)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def op_types(path: str | Path) -> Counter[str]:
    """How often each ONNX operator occurs in the graph of ``path`` (subgraphs and functions included)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    counts: Counter[str] = Counter()
    graphs = [model.graph]
    for function in model.functions:
        counts.update(node.op_type for node in function.node)
    while graphs:
        graph = graphs.pop()
        for node in graph.node:
            counts[node.op_type] += 1
            for attr in node.attribute:
                graphs += [attr.g, *attr.graphs] if attr.HasField("g") else list(attr.graphs)
    return counts


def parity(model: nn.Module, path: str | Path, inputs: Sequence[dict[str, torch.Tensor]], k: int = 5) -> dict[str, Any]:
    """Run ONNX Runtime and ``model`` on the same named inputs; worst max-abs difference and top-k agreement.

    ``model`` is called with the inputs in the order given; every output of the graph is compared
    with the matching output of ``model`` (a tensor or a tuple of tensors).
    """
    session = onnx_session(path)
    worst, same_topk = 0.0, True
    for feed in inputs:
        with torch.no_grad():
            expected = model(*feed.values())
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = session.run(None, {name: value.numpy() for name, value in feed.items()})
        for reference, result in zip(expected, got, strict=True):
            result = torch.from_numpy(result)
            if result.shape != reference.shape:
                raise AssertionError(f"ONNX output shape {tuple(result.shape)} != PyTorch {tuple(reference.shape)}")
            worst = max(worst, (result - reference).abs().max().item() if reference.numel() else 0.0)
        logits, onnx_logits = expected[0], torch.from_numpy(got[0])
        top = min(k, logits.shape[-1])
        same_topk &= torch.equal(logits.topk(top, dim=-1).indices, onnx_logits.topk(top, dim=-1).indices)
    return {"max_abs_diff": worst, "same_topk": bool(same_topk)}
