import json

import numpy as np
import pytest
import torch

from videoshift.engine.evaluate import Predictions, save_results, score
from videoshift.engine.metrics import aggregate_by_key, average_views, classification_metrics, confusion_matrix


def test_average_views_prob_vs_score():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 4.0]]])  # one video, two views
    p1 = torch.tensor([np.e**2, 1.0]) / (np.e**2 + 1)
    p2 = torch.tensor([1.0, np.e**4]) / (1 + np.e**4)
    torch.testing.assert_close(average_views(logits, "prob")[0], ((p1 + p2) / 2).float())
    mean = torch.tensor([1.0, 2.0])  # mean logits
    torch.testing.assert_close(average_views(logits, "score")[0], mean.softmax(0))
    with pytest.raises(ValueError, match="average"):
        average_views(logits, "max")


def test_metrics_against_hand_computed_values():
    # 3 classes, 5 samples; top-1 predictions: 0, 1, 1, 2, 0 for labels 0, 0, 1, 2, 2
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.1, 0.8, 0.1], [0.2, 0.1, 0.7], [0.5, 0.1, 0.4]])
    labels = torch.tensor([0, 0, 1, 2, 2])
    m = classification_metrics(probs, labels, topk=2)
    assert m["top1"] == pytest.approx(60.0)  # 3 of 5
    assert m["top2"] == pytest.approx(100.0)  # every label within the two best
    # per class: class 0 1/2, class 1 1/1, class 2 1/2 -> mean 2/3
    assert m["per_class_acc"] == pytest.approx([50.0, 100.0, 50.0])
    assert m["mean_class_acc"] == pytest.approx(200 / 3)
    nll = -np.log([0.7, 0.3, 0.8, 0.7, 0.4]).mean()
    assert m["loss"] == pytest.approx(nll, rel=1e-5)
    assert m["confusion"].tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]


def test_absent_classes_do_not_count_in_mean_class_accuracy():
    probs = torch.tensor([[0.9, 0.05, 0.05], [0.9, 0.05, 0.05]])
    m = classification_metrics(probs, torch.tensor([0, 1]))
    assert m["per_class_acc"] == [100.0, 0.0, None]
    assert m["mean_class_acc"] == pytest.approx(50.0)
    assert m["top5"] == 100.0  # k is capped at the number of classes


def test_confusion_matrix_rows_are_true_classes():
    cm = confusion_matrix(torch.tensor([1, 1, 0]), torch.tensor([0, 1, 1]), 2)
    assert cm.tolist() == [[0, 1], [1, 1]]


def test_video_level_aggregation():
    probs = torch.tensor([[0.6, 0.4], [0.2, 0.8], [0.1, 0.9], [0.7, 0.3]])
    labels = torch.tensor([0, 0, 1, 0])
    agg, agg_labels, keys = aggregate_by_key(probs, labels, ["a", "a", "b", "c"])
    assert keys == ["a", "b", "c"]
    torch.testing.assert_close(agg, torch.tensor([[0.4, 0.6], [0.1, 0.9], [0.7, 0.3]]))
    assert agg_labels.tolist() == [0, 1, 0]
    result = score(Predictions(probs, labels, torch.arange(4)), ["a", "a", "b", "c"])
    assert result["top1"] == pytest.approx(75.0)  # clip level: rows 0, 2, 3 right
    assert result["video_top1"] == pytest.approx(200 / 3)  # video a is wrong once averaged
    with pytest.raises(ValueError, match="different labels"):
        aggregate_by_key(probs, torch.tensor([0, 1, 1, 0]), ["a", "a", "b", "c"])


def test_results_saved_as_data(tmp_path):
    probs = torch.tensor([[0.9, 0.1], [0.4, 0.6], [0.8, 0.2]])
    result = classification_metrics(probs, torch.tensor([0, 1, 1]))
    path = save_results(result, tmp_path, ["left", "right"])
    saved = json.loads(path.read_text())
    assert np.load(tmp_path / "confusion.npy").tolist() == [[1, 0], [1, 1]]
    assert saved["per_class"][1] == {"class": 1, "name": "right", "accuracy": 50.0, "support": 2}
    assert saved["top1"] == pytest.approx(200 / 3)
