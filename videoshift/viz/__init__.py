"""See what a model sees: Grad-CAM over time and figures of the shift operators (``videoshift viz``).

- :mod:`videoshift.viz.gradcam`: :func:`grad_cam` / :func:`explain` for every registered recognizer.
- :mod:`videoshift.viz.figures`: overlays, the PNG strip with top-5 bars, GIF and MP4 writers.
- :mod:`videoshift.viz.cam_video`: load a trained model, read the clip it sees of a video, write the figures.
- :mod:`videoshift.viz.shift_figures`: what ``patch_shift`` and ``spatiotemporal_shift`` move, from running them.

Names are imported on first use, so that ``videoshift viz`` parses its arguments without loading torch.
"""

from __future__ import annotations

from videoshift._lazy import lazy_getattr

_EXPORTS = {"CamResult": "gradcam", "class_index": "gradcam", "explain": "gradcam", "grad_cam": "gradcam"}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_getattr(__name__, _EXPORTS)
