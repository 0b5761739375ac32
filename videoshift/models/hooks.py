"""Attaching a zero-parameter operator before or after a module without renaming any weight.

The hooks are ``functools.partial`` objects of module-level functions, so models keep deep-copying and pickling
with their shifts attached.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

TensorOp = Callable[[torch.Tensor], torch.Tensor]


def _apply_to_input(op: TensorOp, _module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    return (op(args[0]), *args[1:])


def _apply_to_output(op: TensorOp, _module: nn.Module, _args: tuple[Any, ...], output: torch.Tensor) -> torch.Tensor:
    return op(output)


def run_before(module: nn.Module, op: TensorOp) -> RemovableHandle:
    """Make ``module`` see ``op(x)`` instead of its first input ``x``."""
    return module.register_forward_pre_hook(functools.partial(_apply_to_input, op))


def run_after(module: nn.Module, op: TensorOp) -> RemovableHandle:
    """Make ``module`` return ``op(y)`` instead of its output ``y``."""
    return module.register_forward_hook(functools.partial(_apply_to_output, op))
