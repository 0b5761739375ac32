"""Multi-label training and evaluation: average precision against hand-computed values and a naive
threshold-by-threshold reference, sigmoid view averaging, saved per-class AP, and a run trained with BCE."""

import json

import numpy as np
import pytest
import torch
from engine_standins import TinyMotion, tiny_config

from videoshift.engine.evaluate import Predictions, save_results, score
from videoshift.engine.metrics import average_precision, average_views, multi_label_metrics
from videoshift.engine.train import Trainer


def _naive_ap(scores, positive):
    """scikit-learn's average_precision_score, step by step: sum over thresholds of recall gain × precision."""
    total, ap, last_recall = positive.sum(), 0.0, 0.0
    for threshold in sorted(set(scores.tolist()), reverse=True):
        chosen = scores >= threshold
        recall = (positive & chosen).sum() / total
        ap += (recall - last_recall) * (positive & chosen).sum() / chosen.sum()
        last_recall = recall
    return ap


def test_average_precision_by_hand():
    scores = torch.tensor([[0.9, 0.9], [0.8, 0.7], [0.7, 0.7], [0.6, 0.2], [0.5, 0.1]])
    targets = torch.tensor([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]])
    # class 0: positives ranked 1, 3, 5 -> precisions 1, 2/3, 3/5
    # class 1: tied rows at 0.7 form one threshold (1 positive of 3 rows), then 2 of 4 at 0.2
    expected = [(1 + 2 / 3 + 3 / 5) / 3, (1 / 3 + 2 / 4) / 2]
    torch.testing.assert_close(average_precision(scores, targets), torch.tensor(expected, dtype=torch.float64))


def test_average_precision_matches_the_threshold_definition_with_ties():
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((40, 5)), 1)  # one decimal: many ties
    targets = rng.random((40, 5)) < 0.3
    got = average_precision(torch.from_numpy(scores), torch.from_numpy(targets)).numpy()
    expected = [_naive_ap(scores[:, k], targets[:, k]) for k in range(5)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_classes_without_positives_are_left_out_of_the_mean():
    probs = torch.tensor([[0.9, 0.2, 0.1], [0.3, 0.8, 0.4], [0.6, 0.1, 0.3]])
    targets = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]])  # class 2: no positive
    m = multi_label_metrics(probs, targets)
    assert m["per_class_ap"][2] is None and m["ap_classes"] == 2 and m["positives"] == [2, 2, 0]
    assert m["per_class_ap"][:2] == pytest.approx([100.0, 100 * (1 + 2 / 3) / 2])
    assert m["mAP"] == pytest.approx((m["per_class_ap"][0] + m["per_class_ap"][1]) / 2)
    assert m["top1"] == pytest.approx(100.0)  # every row's top class is one of its labels
    bce = -(targets * probs.log() + (1 - targets) * (1 - probs).log()).mean()
    assert m["loss"] == pytest.approx(bce.item(), rel=1e-5)
    with pytest.raises(ValueError, match="no class has a positive"):
        multi_label_metrics(probs, torch.zeros(3, 3))


def test_multi_label_views_average_sigmoids_not_softmaxes():
    logits = torch.tensor([[[2.0, -1.0, 0.5], [0.0, 1.0, -3.0]]])
    torch.testing.assert_close(average_views(logits, "prob", multi_label=True), logits.sigmoid().mean(1))
    torch.testing.assert_close(average_views(logits, "score", multi_label=True), logits.mean(1).sigmoid())


def test_multi_label_results_hold_per_class_ap(tmp_path):
    probs = torch.tensor([[0.9, 0.2], [0.3, 0.8], [0.6, 0.1], [0.5, 0.7]])
    targets = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    result = score(Predictions(probs, targets, torch.arange(4)), ["a", "a", "b", "c"])
    assert result["video_count"] == 3 and "video_mAP" in result  # rows of video "a" agree on their labels
    saved = json.loads(save_results(result, tmp_path, ["run", "jump"]).read_text())
    assert saved["per_class"][0] == {"class": 0, "name": "run", "ap": result["per_class_ap"][0], "positives": 3}
    assert saved["mAP"] == result["mAP"] and "confusion" not in saved
    assert not (tmp_path / "confusion.npy").exists()


class MultiLabelMotion(TinyMotion):
    """The moving dot with two labels per clip: its direction (0-3) and its axis (4: horizontal, 5: vertical)."""

    num_classes = 6
    class_names = ("right", "left", "down", "up", "horizontal", "vertical")

    def __getitem__(self, index):
        item = super().__getitem__(index)
        target = torch.zeros(self.num_classes)
        target[[int(item["label"]), 4 + int(item["label"]) // 2]] = 1.0
        return {**item, "label": target}


def test_a_multi_label_run_trains_with_bce_and_keeps_the_best_map(tmp_path, standin_model):
    cfg = tiny_config(optim={"lr": 0.02}, train={"epochs": 4})
    trainer = Trainer(cfg, tmp_path / "run", datasets=(MultiLabelMotion(32, "train"), MultiLabelMotion(16, "val")))
    assert isinstance(trainer.criterion, torch.nn.BCEWithLogitsLoss)
    summary = trainer.fit()
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert summary.metric == "mAP" and summary.best_score == max(r["mAP"] for r in records)
    assert records[-1]["mAP"] > records[0]["mAP"] and records[-1]["ap_classes"] == 6
    results = json.loads((tmp_path / "run" / "eval" / "results.json").read_text())
    assert [c["positives"] for c in results["per_class"]] == [4, 4, 4, 4, 8, 8]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "run" / "tb"))
    events.Reload()
    assert [round(e.value, 4) for e in events.Scalars("val/mAP")] == [round(r["mAP"], 4) for r in records]
    with pytest.raises(ValueError, match="label_smoothing"):
        Trainer(
            tiny_config(train={"label_smoothing": 0.1}),
            tmp_path / "smooth",
            datasets=(MultiLabelMotion(8, "train"), MultiLabelMotion(4, "val")),
        )


def test_the_multi_label_example_config_reads_multi_hot_labels(tmp_path):
    from videoshift.data import build_dataset
    from videoshift.engine.config import load_config

    cfg = load_config("tsm_r50_charades_multilabel")
    (tmp_path / "val.txt").write_text("a.mp4 3 156\n")
    data = {**cfg["data"], "root": str(tmp_path), "val_list": str(tmp_path / "val.txt")}
    dataset = build_dataset(data, "val")
    assert dataset.multi_label and dataset.label(dataset.samples[0]).nonzero().flatten().tolist() == [3, 156]


def test_predict_with_a_multi_label_checkpoint_gives_each_class_its_sigmoid(tmp_path, standin_model):
    from videoshift.data import write_synthetic_dataset
    from videoshift.engine import checkpointing
    from videoshift.engine.train import build_model
    from videoshift.inference import load_model
    from videoshift.inference.predict import predict_videos

    write_synthetic_dataset(tmp_path, num_train=1, num_val=1, num_frames=8, size=16, lossless=True)
    video = next((tmp_path / "videos" / "val").glob("*.mp4"))
    args = {"name": standin_model, "kwargs": {"num_classes": 6, "num_frames": 4}}
    model = build_model(args)
    torch.nn.init.zeros_(model.head.weight), torch.nn.init.constant_(model.head.bias, 2.0)  # every logit is 2
    data = {
        "multi_label": True,
        "sampling": {"type": "tsn", "num_frames": 4},
        "transform": {"input_size": 8, "short_side": 8, "test_crops": 1},
    }
    ckpt = {"model_args": args, "model": model.state_dict(), "config": {"data": data, "eval": {"average": "prob"}}}
    checkpointing.atomic_save(ckpt, tmp_path / "ml.pth")
    (result,) = predict_videos([video], load_model(checkpoint=tmp_path / "ml.pth"), top_k=6)
    assert [p for _, p in result.top] == pytest.approx([torch.tensor(2.0).sigmoid().item()] * 6)  # softmax: 1/6
