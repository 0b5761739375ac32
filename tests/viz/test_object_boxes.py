"""``object_boxes``: where the labelled object of a synthetic clip is, frame by frame (for the CAM-in-box test)."""

from __future__ import annotations

import numpy as np
import pytest

from videoshift.data.synthetic import NUM_CLASSES, _scene, object_boxes, render_clip


@pytest.mark.parametrize("label", range(NUM_CLASSES))
def test_boxes_are_inside_the_frame_and_reverse_with_the_class(label):
    boxes = object_boxes(label, seed=3, num_frames=6, size=48)
    assert boxes.shape == (6, 4) and boxes.dtype == np.int64
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= 48).all() and (boxes[:, 2:] > boxes[:, :2]).all()
    twin = label + 1 if label % 2 == 0 else label - 1
    np.testing.assert_array_equal(object_boxes(twin, 3, 6, 48), boxes[::-1])


def test_boxes_follow_the_motion():
    right, down = object_boxes(0, 5, 8, 64), object_boxes(2, 5, 8, 64)
    assert (np.diff(right[:, 0]) > 0).all() and (np.diff(right[:, 1]) == 0).all()
    assert (np.diff(down[:, 1]) > 0).all() and (np.diff(down[:, 0]) == 0).all()
    growing = object_boxes(6, 5, 8, 64)
    assert (np.diff(growing[:, 2] - growing[:, 0]) >= 0).all() and growing[-1, 2] - growing[-1, 0] > 2 * (
        growing[0, 2] - growing[0, 0]
    )


@pytest.mark.parametrize(("label", "seed"), [(0, 1), (3, 2), (7, 4)])
def test_the_box_holds_the_objects_pixels(label, seed):
    frames = render_clip(label, seed, 4, 64).astype(np.float32) / 255
    colour = _scene(label, seed, 4, 64)["main"][5]
    for frame, (x0, y0, x1, y1) in zip(frames, object_boxes(label, seed, 4, 64), strict=True):
        close = np.abs(frame - colour).max(-1) < 0.02  # pixels of the object's colour
        inside = np.zeros_like(close)
        inside[y0:y1, x0:x1] = True
        assert close[inside].sum() > 0.5 * (close.sum())  # most of them in the box (distractors may share it)
        assert close[inside].mean() > 0.3  # and the box is mostly object
