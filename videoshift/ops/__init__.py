"""Zero-parameter shift operators: TSM/TCS temporal channel shift, STSM, TPS temporal patch shift.

Every operator is a pure function plus a thin ``nn.Module`` holding its settings, and all of
them are rendered by one shift core (:mod:`videoshift.ops._core`). Direction wording:
"out[i] ← x[i+1]" means the output at position i reads the input at position i+1.
"""

from videoshift.ops.patch import (
    NAMED_PATTERNS,
    PATTERN_NAMES,
    PatchShift,
    patch_shift,
    patch_shift_back,
    resolve_pattern,
    source_frame_map,
    source_frame_offsets,
)
from videoshift.ops.spatiotemporal import STSM_VARIANTS, SpatioTemporalShift, spatiotemporal_shift
from videoshift.ops.temporal import PSTChannelShift, TemporalShift, pst_channel_shift, temporal_shift

__all__ = [
    "NAMED_PATTERNS",
    "PATTERN_NAMES",
    "STSM_VARIANTS",
    "PSTChannelShift",
    "PatchShift",
    "SpatioTemporalShift",
    "TemporalShift",
    "patch_shift",
    "patch_shift_back",
    "pst_channel_shift",
    "resolve_pattern",
    "source_frame_map",
    "source_frame_offsets",
    "spatiotemporal_shift",
    "temporal_shift",
]
