"""See what a model sees: Grad-CAM over time and figures of the shift operators (``videoshift viz``).

- :mod:`videoshift.viz.gradcam`: :func:`grad_cam` / :func:`explain` for every registered recognizer.
- :mod:`videoshift.viz.figures`: overlays, the PNG strip with top-5 bars, GIF and MP4 writers.
- :mod:`videoshift.viz.cam_video`: load a trained model, read the clip it sees of a video, write the figures.
- :mod:`videoshift.viz.shift_figures`: what ``patch_shift`` and ``spatiotemporal_shift`` move, from running them.
"""

from videoshift.viz.gradcam import CamResult, class_index, explain, grad_cam

__all__ = ["CamResult", "class_index", "explain", "grad_cam"]
