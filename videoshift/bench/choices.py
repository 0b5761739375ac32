"""Names that ``videoshift bench`` offers as choices, apart from the benchmark modules that use them.

The benchmark modules import torch; the command line imports only this module (and the torch-free
:mod:`~videoshift.bench.presets`) to build its parser, so that parsing and ``--help`` stay fast.
"""

from __future__ import annotations

#: ``bench ops`` sizes → (frames, CNN features (N*T, C, H, W), PST tokens (B, T, H, W, C)). "paper": R50
#: stage-1 features of 8 frames at 224², PST-T stage-1 tokens of 32 frames (16 temporal tokens).
OP_SIZES = {"paper": (8, (8, 256, 56, 56), (1, 16, 56, 56, 96)), "small": (4, (8, 16, 8, 8), (1, 4, 14, 14, 24))}
#: ``bench data`` video readers.
READERS = ("pyav", "pyav-sequential", "full", "torchcodec", "torchcodec-cuda")
#: Peak memories that ``bench models`` measures: a forward pass without gradients, a training step.
MODES = ("inference", "train")
#: Statistics of the timed calls of ``bench models``.
STATS = ("median", "min")
