"""Online (streaming) inference of causal shift CNNs, with the state passed explicitly.

A causal shift (online TSM: ``TemporalShift(convention="causal")``; causal STSM:
``SpatioTemporalShift(convention="causal")``, an extension the STSM paper does not evaluate) lets
frame t read only frames t and t−1. The channels a layer reads from the previous frame are all the
state it needs: the streaming runner caches exactly those channels of the last frame seen, per
shifted layer, and feeds them to the next step::

    stream = Stream(create_model("tsm_mbv2", causal=True, num_frames=8), frame_size=224)
    state = stream.init_state(batch=1)
    for frame in frames:                       # (1, 3, H, W), or chunks (1, 3, K, H, W)
        logits, state = stream.step(frame, state)   # (1, K, classes): one row per frame

Feeding a clip frame by frame, or in chunks of any size, gives the per-frame logits
(:func:`frame_logits`) of the offline causal model on the whole clip. Models whose frames read the
future or the whole clip are refused: bidirectional shifts (make them causal with
:func:`make_causal`, which needs fine-tuning to keep the accuracy), patch shifts and attention over
the clip (Swin, PST, DeiT), non-local blocks and temporal pooling.

:class:`StepNet` is the step as a module ``(frames, *state) → (logits, *state)``, which exports to
ONNX with the state as named inputs ``state_in_{i}`` and outputs ``state_out_{i}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy

import torch
from torch import Tensor, nn

from videoshift.models.shift_cnn import ShiftCNN, residual_stages
from videoshift.ops import SpatioTemporalShift, TemporalShift
from videoshift.ops._core import Move, ShiftPlan, apply_shift

TIME_DIM, CHANNEL_DIM = 1, 2  # of the (N, T, C, H, W) view the shift plans are written on
State = tuple[Tensor, ...]


def _shift_blocks(model: ShiftCNN) -> list[nn.Module]:
    return [block for stage in residual_stages(model.backbone) for _, block in stage if hasattr(block, "shift")]


def make_causal(model: nn.Module, copy: bool = True) -> nn.Module:
    """A copy of a TSM/STSM CNN with every shift made causal (same weights; fine-tune before use).

    ``copy=False`` changes ``model`` itself and returns it.
    """
    if not isinstance(model, ShiftCNN):
        raise ValueError(f"only the shift CNNs (TSM, STSM) have a causal version, not {type(model).__name__}")
    model = deepcopy(model) if copy else model
    for block in _shift_blocks(model):
        shift = block.shift
        if isinstance(shift, TemporalShift):
            block.shift = TemporalShift(shift.num_frames, shift.shift_div, convention="causal")
        elif isinstance(shift, SpatioTemporalShift):
            block.shift = SpatioTemporalShift(shift.num_frames, shift.alpha, shift.dims, convention="causal")
    return model


def streaming_model(model: nn.Module, copy: bool = True) -> nn.Module:
    """``model`` if it streams, else its causal version (:func:`make_causal`) if that streams; raises otherwise."""
    problem = streaming_problem(model)
    if problem is None:
        return model
    try:
        causal = make_causal(model, copy)
    except ValueError:
        raise ValueError(problem) from None
    problem = streaming_problem(causal)
    if problem is not None:
        raise ValueError(problem)
    return causal


def streaming_problem(model: nn.Module) -> str | None:
    """Why ``model`` cannot stream frame by frame, or ``None`` when it can."""
    name = type(model).__name__
    if not isinstance(model, ShiftCNN):
        return (
            f"{name} cannot stream: its frames exchange information over the whole clip (attention, patch or "
            "bidirectional shifts); only the causal shift CNNs (tsm_*/stsm_* with causal=True) and TSN stream"
        )
    if model.temporal_pool is not None:
        return "a model with temporal pooling cannot stream: it pools frames t-1, t and t+1"
    if len(model.non_local):
        return "a model with non-local blocks cannot stream: they attend over every frame of the clip"
    for block in _shift_blocks(model):
        if getattr(block.shift, "convention", None) != "causal":
            return (
                f"{type(block.shift).__name__} with convention={getattr(block.shift, 'convention', None)!r} reads the "
                "next frame and cannot stream; build the model with causal=True or convert it with make_causal() "
                "(and fine-tune)"
            )
    return None


def _channel_range(move: Move) -> tuple[int, int]:
    part = move.region[CHANNEL_DIM] if len(move.region) > CHANNEL_DIM else slice(None)
    if part.step not in (None, 1) or any(len(move.region) > d and move.region[d] != slice(None) for d in (0, 1)):
        raise ValueError("streaming needs shift plans whose moves are channel ranges")
    return part.start or 0, part.stop


class StreamingShift(nn.Module):
    """One causal shift layer on a chunk of K frames, with the previous frame's moved channels as state.

    The channels that read frame t−1 are replaced by those of the frame before (the state for the
    first frame of the chunk), then the plan's spatial offsets run on each frame on its own.
    """

    def __init__(self, shift: nn.Module) -> None:
        super().__init__()
        self.shift = shift
        self.state_in: list[Tensor | None] = [None]  # a list, not a tensor attribute: set per call
        self.state_out: list[Tensor | None] = [None]
        self._layouts: dict[int, tuple[list[tuple[int, int | None]], ShiftPlan]] = {}

    def _layout(self, channels: int) -> tuple[list[tuple[int, int | None]], ShiftPlan]:
        """The channel ranges read from frame t−1, and the plan's spatial part (cached per channel count)."""
        if channels not in self._layouts:
            self._layouts[channels] = self._split_plan(channels)
        return self._layouts[channels]

    def _split_plan(self, channels: int) -> tuple[list[tuple[int, int | None]], ShiftPlan]:
        plan = self.shift.plan(channels)
        past, spatial = [], []
        for move in plan.moves:
            time = dict(move.offsets).get(TIME_DIM, 0)
            if time not in (0, -1):
                raise ValueError(f"{self.shift} reads frame t{time:+d}: not causal")
            if time == -1:
                past.append(_channel_range(move))
            spatial.append(Move(move.region, tuple((d, o) for d, o in move.offsets if d != TIME_DIM)))
        past.sort()
        return past, ShiftPlan(tuple(spatial), plan.boundary)

    def forward(self, x: Tensor) -> Tensor:  # (N*K, C, H, W)
        channels = x.shape[1]
        past, spatial = self._layout(channels)
        state = self.state_in[0]
        batch = x.shape[0] if state is None else state.shape[0]  # no state: a probe of one frame
        frames = x.view(batch, -1, *x.shape[1:])  # (N, K, C, H, W)
        pieces, cached, end, offset = [], [], 0, 0
        for start, stop in past:
            stop = channels if stop is None else stop
            pieces.append(frames[:, :, end:start])
            last = frames[:, -1, start:stop]
            previous = torch.zeros_like(last) if state is None else state[:, offset : offset + stop - start]
            cached.append(last)
            pieces.append(torch.cat([previous[:, None], frames[:, :-1, start:stop]], dim=1))
            end, offset = stop, offset + stop - start
        pieces.append(frames[:, :, end:])
        self.state_out[0] = torch.cat(cached, dim=1)
        mixed = torch.cat(pieces, dim=2) if past else frames
        if any(move.offsets for move in spatial.moves):
            mixed = apply_shift(mixed.reshape(-1, 1, *mixed.shape[2:]), spatial)
        return mixed.reshape(x.shape)


class StepNet(nn.Module):
    """The streaming step as a module: ``(frames (N, 3, K, H, W), *state) → (logits (N, K, classes), *state)``."""

    def __init__(self, model: nn.Module, copy: bool = True) -> None:
        super().__init__()
        problem = streaming_problem(model)
        if problem is not None:
            raise ValueError(problem)
        self.model = (deepcopy(model) if copy else model).eval()  # without copy: ``model``'s shifts are replaced
        self.layers = nn.ModuleList()
        for block in _shift_blocks(self.model):
            block.shift = StreamingShift(block.shift)
            self.layers.append(block.shift)

    def forward(self, frames: Tensor, *state: Tensor) -> tuple[Tensor, ...]:
        if frames.ndim == 4:  # one frame (N, 3, H, W)
            frames = frames[:, :, None]
        if state and len(state) != len(self.layers):
            raise ValueError(f"expected {len(self.layers)} state tensors, got {len(state)}")
        for layer, tensor in zip(self.layers, state or [None] * len(self.layers), strict=True):
            layer.state_in[0] = tensor
        try:
            b, c, k, h, w = frames.shape
            features = self.model.backbone.forward_features(frames.transpose(1, 2).reshape(b * k, c, h, w))
            pooled = features.mean(dim=(2, 3)).view(b, k, -1)  # (N, K, F)
            logits = self.model.head.fc(pooled)
            new_state = tuple(layer.state_out[0] for layer in self.layers)
        finally:
            for layer in self.layers:
                layer.state_in[0] = layer.state_out[0] = None
        return (logits, *new_state)


class Stream:
    """Streaming runner with explicit state: ``state = init_state(batch)``, ``logits, state = step(frames, state)``.

    Args:
        model: a causal shift CNN (or TSN); it is copied, the original is left as it is.
        frame_size: height and width of the frames (the state's spatial sizes follow from it).
    """

    def __init__(self, model: nn.Module, frame_size: int | tuple[int, int]) -> None:
        self.net = StepNet(model)
        self.frame_size = (frame_size, frame_size) if isinstance(frame_size, int) else tuple(frame_size)
        parameter = next(self.net.parameters())
        probe = torch.zeros(1, 3, 1, *self.frame_size, device=parameter.device, dtype=parameter.dtype)
        with torch.no_grad():
            _, *state = self.net(probe)
        self.state_shapes = [tuple(s.shape[1:]) for s in state]  # per shifted layer: (cached C, h, w)

    @property
    def num_layers(self) -> int:
        return len(self.state_shapes)

    def init_state(self, batch: int = 1) -> State:
        """Zeros for every shifted layer: the state before the first frame (the clip edge reads zeros)."""
        parameter = next(self.net.parameters())
        return tuple(torch.zeros(batch, *s, device=parameter.device, dtype=parameter.dtype) for s in self.state_shapes)

    def step(self, frames: Tensor, state: Sequence[Tensor]) -> tuple[Tensor, State]:
        """Per-frame logits ``(N, K, classes)`` of frames ``(N, 3, K, H, W)`` or ``(N, 3, H, W)``, and the new state."""
        with torch.no_grad():
            logits, *new_state = self.net(frames, *state)
        return logits, tuple(new_state)


def frame_logits(model: ShiftCNN, clip: Tensor) -> Tensor:
    """Per-frame logits ``(B, T, classes)`` of a shift CNN on whole clips (the head before its average)."""
    with torch.no_grad():
        features = model.forward_features(clip)  # (B, F, T, h, w)
        return model.head.fc(features.mean(dim=(3, 4)).transpose(1, 2))
