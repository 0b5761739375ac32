"""Parameter and multiply-add counts, the way the papers report them.

Both papers' "FLOPs" are multiply-adds; ``torch.utils.flop_counter`` counts two FLOPs per multiply-add, so
:func:`count_macs` halves its total. Which fused attention kernel PyTorch picks (and whether the installed
version's counter knows it) depends on the version, the device and the inputs, so during counting every
``scaled_dot_product_attention`` call runs as its explicit products instead: the count is then the same on
every version and backend, and equal to that of a model written with plain matmuls.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters (shared tensors counted once)."""
    seen: set[int] = set()
    total = 0
    for p in model.parameters():
        if id(p) in seen or (trainable_only and not p.requires_grad):
            continue
        seen.add(id(p))
        total += p.numel()
    return total


def explicit_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> torch.Tensor:
    """``F.scaled_dot_product_attention`` as two matmuls and a softmax (inference: no dropout).

    Shapes ``(..., L, E)`` for the query, ``(..., S, E)`` and ``(..., S, Ev)`` for key and value.
    """
    if dropout_p:
        raise ValueError(f"explicit_attention is for counting in eval mode, got dropout_p={dropout_p}")
    if enable_gqa and query.dim() >= 3 and key.size(-3) != query.size(-3):
        repeat = query.size(-3) // key.size(-3)
        key, value = key.repeat_interleave(repeat, -3), value.repeat_interleave(repeat, -3)
    scores = (query @ key.transpose(-2, -1)) * (scale if scale is not None else 1 / math.sqrt(query.size(-1)))
    if is_causal:
        keep = torch.ones(query.size(-2), key.size(-2), dtype=torch.bool, device=query.device).tril()
        scores = scores.masked_fill(~keep, float("-inf"))
    if attn_mask is not None:
        scores = scores.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool else scores + attn_mask
    return scores.softmax(-1) @ value


class _ExplicitAttention(TorchFunctionMode):
    """Routes every ``scaled_dot_product_attention`` call through :func:`explicit_attention`."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is F.scaled_dot_product_attention:
            return explicit_attention(*args, **(kwargs or {}))
        return func(*args, **(kwargs or {}))


@torch.no_grad()
def count_macs(model: nn.Module, inputs: torch.Tensor | tuple[torch.Tensor, ...]) -> int:
    """Multiply-adds of one forward pass of ``model`` on ``inputs`` (FLOPs from the counter / 2).

    Convolutions, linear layers and matrix products count, attention included whichever kernel would run it;
    element-wise operations, normalisation and softmax do not (as in the papers' counts). The model runs in eval
    mode; afterwards every module is back in the mode it had (``model.train(...)`` would unfreeze frozen BatchNorms).
    """
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    modes = [(module, module.training) for module in model.modules()]  # each its own: a frozen BN stays frozen
    model.eval()
    try:
        with FlopCounterMode(display=False) as counter, _ExplicitAttention():
            model(*inputs)
    finally:
        for module, training in modes:
            module.training = training
    return counter.get_total_flops() // 2
