"""The papers' settings that the operators, models and figures take as defaults, each stated once.

Every signature that defaults to a paper's value names the constant here instead of writing the number, so a
value cannot drift in one place while the others keep the paper's (``tests/test_paper_defaults.py`` holds each
constant and each signature against the papers' numbers). Plain values only: every layer imports this module
(:mod:`videoshift.ops` included), so it imports nothing.

Sources: STSM = Yang et al., "STSM: Spatio-Temporal Shift Module for Efficient Action Recognition"; TPS = Xiang et
al., "Spatiotemporal Self-attention Modeling with Temporal Patch Shift for Action Recognition" (ECCV 2022) and its
release (MartinXM/TPS); TSM = Lin et al. (ICCV 2019) and its release; TANet = Liu et al. (ICCV 2021) as in
MMAction2; TDN = Wang et al. (CVPR 2021) and its release (MCG-NJU/TDN). ``docs`` = the project's reference facts.
"""

from __future__ import annotations

# ------------------------------------------------------------------------------------------------------ TSM
#: TSM: ``C // 8`` channels move each way in time, 1/4 in all (STSM Sec. 5.1.1 "TSM (α = 1/4)"; docs §1).
TSM_SHIFT_DIV = 8
#: TSM / STSM on CNNs: 8 frames per clip (STSM Sec. 4.2.1, ``num_clips = 8``; TSM's 8-frame models).
CNN_FRAMES = 8

# ----------------------------------------------------------------------------------------------------- STSM
#: STSM: ratio α of the channels that shift (STSM Sec. 5.1.1, Table 1: best at α = 3/8).
STSM_ALPHA = 3 / 8
#: STSM: one 1D shift group per axis, time + height + width (STSM Sec. 5.1.2, Table 3).
STSM_DIMS = "T+H+W"

# ------------------------------------------------------------------------------------------------- TPS / PST
#: TPS: the released pattern (the paper's pattern C, mirrored in time) (TPS Sec. 4.3 / Fig. 5(c); docs §3).
TPS_PATTERN = "official"
#: TPS: stages (0-based) whose blocks patch-shift: all four (TPS Sec. 3.3; released ``SwinTransformer2D_TPS``).
TPS_STAGES = (0, 1, 2, 3)
#: TPS: a TPS block for every two attention blocks, the "alternative shift" (TPS Sec. 3.3, Table 2(d)).
TPS_ALTERNATE = True
#: TCS inside PST: ``head_dim // 8`` channels of every head move each way (TPS release; docs §1).
TCS_CHANNEL_DIV = 8
#: PST: 32 input frames (TPS Sec. 4.2 "Models").
PST_FRAMES = 32
#: PST-T stochastic depth rate 0.1, also DeiT-S's (TPS Sec. 4.2 "Training"; Appendix: as PST-T); PST-B: 0.2.
PST_T_DROP_PATH = 0.1
PST_B_DROP_PATH = 0.2
#: DeiT-S-TPS/TSM/2D: 16 densely sampled frames (TPS Appendix, Table 7).
DEIT_FRAMES = 16

# ---------------------------------------------------------------------------------------------------- TANet
#: TAM's global branch widens T to α·T, its local branch narrows C to C/β, its kernel has K taps (TANet's TAM as
#: MMAction2 releases it: ``TAM(alpha=2, beta=4, adaptive_kernel_size=3)``).
TANET_ALPHA = 2
TANET_BETA = 4
TANET_KERNEL = 3

# ------------------------------------------------------------------------------------------------------ TDN
#: TDN: 5 consecutive frames per segment, 8 segments (TDN's short-term TDM; release ``--num_segments 8``).
TDN_SEGMENT_FRAMES = 5
TDN_SEGMENTS = 8

# ---------------------------------------------------------------------------------------------------- shared
#: Dropout before the classifier: 0.5 (STSM Sec. 4.2.1; TPS release ``I3DHead(dropout_ratio=0.5)``, docs §3).
HEAD_DROPOUT = 0.5
#: Input frames are 224 × 224 crops of a 256 short side (STSM Sec. 4.2.1; TPS Sec. 4.2 "Training").
INPUT_SIZE = 224
