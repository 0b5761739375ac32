"""What evaluation computes and writes, pinned value by value (found by mutation testing: scripts/mutation.sh metrics).

Top-5 as a percentage over videos, the shape checks of the metric functions, the autocast dtype of each ``amp``
setting on each device type, and the files ``save_results`` writes (folders created, default class names, summary
keys, the confusion matrix, ``results.json`` layout).
"""

from __future__ import annotations

import contextlib
import json
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from videoshift.engine.evaluate import Predictions, autocast, save_results, score, video_keys
from videoshift.engine.metrics import aggregate_by_key, average_views, classification_metrics


def test_top5_is_the_percentage_of_videos_with_the_label_in_the_five_best():
    probs = torch.tensor([[0.5, 0.2, 0.1, 0.08, 0.07, 0.05]] * 4)  # class 5 is sixth, class 4 fifth
    labels = torch.tensor([0, 4, 5, 5])
    result = classification_metrics(probs, labels)
    assert result["top1"] == 25.0 and result["top5"] == 50.0
    single = classification_metrics(probs[:1], labels[:1])  # one video is enough to score
    assert single["count"] == 1 and single["top1"] == 100.0


def test_metric_functions_reject_bad_shapes_naming_them():
    with pytest.raises(ValueError, match=r"logits must be \(B, V, K\), got shape \(2, 3\)"):
        average_views(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"got 2 keys for 3 rows"):
        aggregate_by_key(torch.zeros(3, 2), torch.zeros(3), ["a", "b"])
    with pytest.raises(ValueError, match=r"got \(3, 4\) and \(2,\)"):
        classification_metrics(torch.zeros(3, 4), torch.zeros(2))  # 2-D probs, labels of another length
    with pytest.raises(ValueError, match=r"got \(3, 4, 1\) and \(3,\)"):
        classification_metrics(torch.zeros(3, 4, 1), torch.zeros(3))  # matching length, probs not 2-D
    with pytest.raises(ValueError, match=r"^no predictions to score$"):
        classification_metrics(torch.zeros(0, 4), torch.zeros(0))


def test_autocast_dtype_of_each_setting():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")  # a CUDA autocast object can be built without a GPU
    assert isinstance(autocast(cpu, "none"), contextlib.nullcontext)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "CUDA is not available": the object still records its settings
        assert autocast(cuda, "fp16").fast_dtype == torch.float16
        assert autocast(cuda, "bf16").fast_dtype == torch.bfloat16
    bf16 = autocast(cpu, "bf16")
    assert (bf16.device, bf16.fast_dtype) == ("cpu", torch.bfloat16)
    with bf16:
        assert torch.is_autocast_enabled("cpu")
    with pytest.raises(ValueError, match=r"^train.amp='fp16' needs a CUDA device; use 'bf16' on the CPU$"):
        autocast(cpu, "fp16")


def test_save_results_writes_the_summary_and_the_confusion(tmp_path):
    result = classification_metrics(torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), torch.tensor([0, 1, 1]))
    out = tmp_path / "a" / "b"  # parents are created
    path = save_results(result, out)
    assert path == out / "results.json"
    text = path.read_text(encoding="utf-8")
    saved = json.loads(text)
    assert text == json.dumps(saved, indent=1)
    assert set(saved) == {"top1", "top5", "mean_class_acc", "loss", "count", "per_class", "confusion"}
    assert saved["confusion"] == [[1, 0], [1, 1]]
    assert [(c["class"], c["name"], c["accuracy"], c["support"]) for c in saved["per_class"]] == [
        (0, "0", 100.0, 1),
        (1, "1", 50.0, 2),
    ]
    assert torch.equal(torch.from_numpy(np.load(out / "confusion.npy")), result["confusion"])
    named = json.loads(save_results(result, tmp_path / "named", ["left", "right"]).read_text())
    assert [c["name"] for c in named["per_class"]] == ["left", "right"]


def test_average_views_defaults_to_averaging_probabilities():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 4.0]]])
    torch.testing.assert_close(average_views(logits), average_views(logits, "prob"), rtol=0, atol=0)
    assert not torch.allclose(average_views(logits), average_views(logits, "score"))


def test_save_results_rejects_class_names_of_another_count(tmp_path):
    result = classification_metrics(torch.tensor([[0.9, 0.1]]), torch.tensor([0]))
    with pytest.raises(ValueError, match=r"^got 3 class names for results of 2 classes$"):
        save_results(result, tmp_path, ["left", "right", "up"])


class _Listed:
    def __init__(self, paths):
        self.samples = [SimpleNamespace(path=p) if p is not None else SimpleNamespace() for p in paths]


def test_video_keys_group_clips_of_one_video_only_when_a_video_repeats():
    repeated = _Listed(["a.mp4", "b.mp4", "a.mp4", "b.mp4"])
    assert video_keys(repeated, torch.tensor([2, 1, 0, 3])) == ["a.mp4", "b.mp4", "a.mp4", "b.mp4"]
    assert video_keys(repeated, torch.tensor([3, 0])) is None  # no video repeats among these items
    assert video_keys(_Listed(["a.mp4", "b.mp4"]), torch.tensor([0, 1])) is None
    assert video_keys(_Listed(["a.mp4", None, "a.mp4"]), torch.tensor([0, 1, 2])) is None  # a sample without a path
    assert video_keys(object(), torch.tensor([0])) is None  # no samples list (synthetic data)
    scored = score(
        Predictions(torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]]), torch.tensor([0, 0, 1]), torch.arange(3)),
        video_keys(_Listed(["a", "a", "b"]), torch.arange(3)),
    )
    assert (scored["top1"], scored["video_top1"], scored["video_count"]) == (pytest.approx(200 / 3), 100.0, 2)
