"""Multi-label metrics and the one-line summary, by hand: errors named, soft targets, clamped losses."""

from __future__ import annotations

import math

import pytest
import torch

from videoshift.engine.metrics import average_precision, headline, multi_label_metrics


def test_shapes_and_empty_inputs_are_refused_by_name():
    with pytest.raises(ValueError, match=r"^scores and targets must both be \(N, K\), got \(3,\) and \(3,\)$"):
        average_precision(torch.rand(3), torch.rand(3))
    with pytest.raises(ValueError, match=r"^scores and targets must both be \(N, K\), got \(2, 3\) and \(2, 4\)$"):
        average_precision(torch.rand(2, 3), torch.rand(2, 4))
    with pytest.raises(ValueError, match=r"^probs and targets must both be \(N, K\), got \(3,\) and \(3,\)$"):
        multi_label_metrics(torch.rand(3), torch.rand(3))
    with pytest.raises(ValueError, match=r"^probs and targets must both be \(N, K\), got \(2, 3\) and \(2, 4\)$"):
        multi_label_metrics(torch.rand(2, 3), torch.rand(2, 4))
    with pytest.raises(ValueError, match=r"^no predictions to score$"):
        multi_label_metrics(torch.rand(0, 3), torch.rand(0, 3))
    with pytest.raises(ValueError, match=r"^no class has a positive label: mean average precision is undefined$"):
        multi_label_metrics(torch.rand(2, 3), torch.zeros(2, 3))


def test_one_row_and_classes_without_positives_in_between():
    # class 0 has no positive (NaN, left out), class 1 one positive ranked first: AP 1; class 2 ranked second: 1/2
    probs = torch.tensor([[0.2, 0.9, 0.1], [0.7, 0.3, 0.6]])
    targets = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    targets[0, 2] = 1.0
    ap = average_precision(probs, targets)
    assert math.isnan(ap[0]) and ap[1:].tolist() == [1.0, 0.5]
    result = multi_label_metrics(probs[:1], targets[:1])  # a single row is enough to score
    assert result["count"] == 1 and result["ap_classes"] == 2


def test_half_targets_are_negative_and_extreme_probabilities_give_a_finite_loss():
    probs = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    targets = torch.tensor([[1.0, 0.5], [0.0, 1.0]])  # 0.5 is not a positive
    result = multi_label_metrics(probs, targets)
    assert result["positives"] == [1, 1] and result["per_class_ap"] == [100.0, 100.0]
    # every prediction is right at probability 1 - 1e-7 (clamped) except the soft 0.5 target on a probability 1e-7
    expected = (3 * -math.log(1 - 1e-7) - (0.5 * math.log(1e-7) + 0.5 * math.log(1 - 1e-7))) / 4
    assert result["loss"] == pytest.approx(expected, rel=1e-4)
    # top-1: the best class of row 0 is class 0 (labelled 1), of row 1 class 1 (labelled 1): 100 %
    assert result["top1"] == 100.0
    assert multi_label_metrics(torch.tensor([[0.9, 0.1]]), torch.tensor([[0.0, 1.0]]))["top1"] == 0.0
    # a confident wrong prediction costs -log(1e-7), not the 100 of an unclamped log(0)
    wrong = multi_label_metrics(torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0, 0.0]]))
    assert wrong["loss"] == pytest.approx(-math.log(1e-7) / 2, rel=0.02)  # 1 - 1e-7 rounds to 1 - 1.2e-7 in float32
    # a 0.5 target ranked first is not a positive: the one positive, ranked third, has precision 1/3
    ap = average_precision(torch.tensor([[0.9], [0.5], [0.1]]), torch.tensor([[0.5], [0.0], [1.0]]))
    assert ap.tolist() == pytest.approx([1 / 3])
    assert multi_label_metrics(torch.tensor([[0.9, 0.1], [0.9, 0.1]]), torch.tensor([[1.0, 0], [0, 1]]))["top1"] == 50


def test_headline_by_hand():
    single = {"top1": 71.234, "top5": 90.0, "mean_class_acc": 65.5, "loss": 1.23456, "count": 10}
    assert headline(single) == "top1 71.23 top5 90.00 mean class 65.50 loss 1.2346"
    multi = {"mAP": 40.0, "top1": 50.0, "loss": 0.5}
    assert headline(multi) == "mAP 40.00 top1 50.00 loss 0.5000"
