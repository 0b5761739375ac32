"""Grad-CAM of a trained model looks at the moving object: the quantitative check on the synthetic motion data.

A TSM on a tiny timm ResNet (one BasicBlock per stage, 16-128 channels, output stride 16: 6x6 maps of 96x96
frames) learns moving right / left / down / up from 320 clips on one CPU thread (75-105 s of CPU with two cores
shared by several busy processes, about 40 s on a quiet one). On 96 new clips the test asks how much of the CAM of
the true class lies inside the object's box, as a multiple of the box's share of the frame: the ratio (1.0: no
preference), averaged over the clips.

The run is seeded and single-threaded, so it repeats exactly on one machine, and the clips are the same bytes under
every supported numpy. Another CPU's kernels still round differently, and the smallest difference grows into
another trained model, so the threshold comes from the spread over training seeds (96 clips each; torch 2.14.1 and
timm 1.0.31 on both venvs, numpy 1.26.0 on the floor, 2.4.6 on the newest):

==================================  ========  =========  ===============  ============================
data                                seed      accuracy   ratio (median)   CAM peak in box / box share
==================================  ========  =========  ===============  ============================
clips as now, both numpy versions   0         1.00       1.66 (1.62)      3.14
                                    1         1.00       1.78 (1.76)      2.73
                                    2         1.00       1.45 (1.40)      0.55
before the fix, numpy 2.4.6 only    0         1.00       1.73 (1.73)      4.09
(a grey level off in a few pixels)  1         1.00       1.82 (1.80)      5.87
                                    2         1.00       1.36 (1.18)      2.59
                                    3         1.00       1.39 (1.51)      1.64
                                    4         1.00       1.51 (1.50)      0.96
                                    5         1.00       1.51 (1.44)      2.32
==================================  ========  =========  ===============  ============================

The mean ratio spans 1.36-1.82 (mean 1.58, sd 0.17 over the nine models). The threshold 1.15 keeps 42% of the
smallest lift measured (0.36 above 1.0) and lies 2.5 sd below the mean; accuracy, 1.00 every time, must reach 0.9.
The CAM peak is printed but not asserted: from 0.55x to 5.9x chance, it lands next to the box along the motion as
often as in it (the shifts let frame t see where the object is in frames t-1 and t+1). The old assertion, peak in
the box in over 3x as many of 24 clips as chance, failed for seed 0 on the floor (0.21 of clips against 0.08).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import timm
import torch
from timm.models import register_model
from timm.models.resnet import BasicBlock, ResNet

from videoshift.data.synthetic import object_boxes, render_clip
from videoshift.models import create_model
from videoshift.viz.gradcam import explain

FRAMES, SIZE, CLASSES = 4, 96, 4  # moving right, left, down, up
MEAN, STD = 0.45, 0.25
EVAL_CLIPS = 96
# set from the distribution over training seeds measured on the floor and the newest versions (module docstring)
MIN_ACCURACY, MIN_RATIO = 0.9, 1.15

if not timm.is_model("viz_tiny_resnet"):

    @register_model
    def viz_tiny_resnet(pretrained: bool = False, **kwargs) -> ResNet:
        """A ResNet small enough to train in seconds, with 1/16-resolution final maps."""
        keep = {k: kwargs[k] for k in ("num_classes", "drop_path_rate") if k in kwargs}
        return ResNet(BasicBlock, (1, 1, 1, 1), channels=(16, 32, 64, 128), stem_width=16, output_stride=16, **keep)


def clip_of(label: int, seed: int) -> torch.Tensor:
    frames = torch.from_numpy(render_clip(label, seed, FRAMES, SIZE)).permute(3, 0, 1, 2).float() / 255
    return (frames - MEAN) / STD


def box_masks(label: int, seed: int) -> torch.Tensor:
    masks = torch.zeros(FRAMES, SIZE, SIZE)
    for t, (x0, y0, x1, y1) in enumerate(object_boxes(label, seed, FRAMES, SIZE)):
        masks[t, y0:y1, x0:x1] = 1
    return masks


def train_tiny_tsm(
    num_clips: int = 320, epochs: int = 10, batch: int = 16, lr: float = 5e-3, seed: int = 0
) -> torch.nn.Module:
    """The tiny TSM trained on fixed clips; ``seed`` sets its initialisation and batch order (the docstring's table)."""
    labels = torch.arange(num_clips) % CLASSES
    clips = torch.stack([clip_of(int(label), 1000 + i) for i, label in enumerate(labels)])
    torch.manual_seed(seed)
    model = create_model("tsm_r50", backbone="viz_tiny_resnet", num_classes=CLASSES, num_frames=FRAMES, dropout=0.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = num_clips // batch
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(num_clips)
        for step in range(steps):
            picked = order[step * batch : (step + 1) * batch]
            loss = torch.nn.functional.cross_entropy(model(clips[picked]), labels[picked])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    return model.eval()


@pytest.mark.slow
def test_cam_mass_sits_on_the_moving_object():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the same sums in the same order on every run of one machine
    try:
        start = time.process_time()
        model = train_tiny_tsm(seed=0)
        seconds = time.process_time() - start
        ratios, hits, chance, correct = [], [], [], []
        for i in range(EVAL_CLIPS):
            label, seed = i % CLASSES, 50_000 + i  # clips the model never saw
            result = explain(model, clip_of(label, seed), target=label)
            masks = box_masks(label, seed)
            inside = float((result.cam * masks).sum() / result.cam.sum())
            ratios.append(inside / float(masks.mean()))  # CAM share in the box / the box's share of the frames
            peak = int(result.cam.argmax())
            hits.append(bool(masks.flatten()[peak]))
            chance.append(float(masks.mean()))
            correct.append(int(result.probs.argmax()) == label)
    finally:
        torch.set_num_threads(threads)
    peak_lift = np.mean(hits) / np.mean(chance)
    print(
        f"trained in {seconds:.1f} s CPU; accuracy {np.mean(correct):.2f}; CAM-in-box ratio mean {np.mean(ratios):.2f}"
        f" (median {np.median(ratios):.2f}); CAM peak in the box {np.mean(hits):.3f} of clips, {peak_lift:.2f}x the"
        f" {np.mean(chance):.3f} the boxes cover"
    )
    assert np.mean(correct) >= MIN_ACCURACY
    assert np.mean(ratios) > MIN_RATIO  # the peak is printed, not asserted: it lands beside the box as often as in it
