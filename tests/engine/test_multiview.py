"""Multi-view evaluation keeps every video's views together, through the loader, ``predict`` and ``score``.

Each video has V views (clips × crops); ``predict`` flattens a batch ``(B, V, C, T, H, W)`` into ``B*V`` clips for
the model and must average exactly the V views of each video. Checked against a loop over single views with
B, V > 1, a last batch that is not full, and a model whose prediction differs per view and per video, so that any
mix-up of videos (or of views and videos) changes the probabilities.
"""

import torch
from engine_standins import TinyRecognizer
from torch.utils.data import Dataset

from videoshift.engine.distributed import DistInfo
from videoshift.engine.evaluate import predict, score
from videoshift.engine.loader import eval_loader

VIEWS, CLASSES = 3, 5


class _Views(Dataset):
    """Item i: V random views ``(V, 3, 4, 8, 8)``, label i % CLASSES."""

    def __init__(self, count: int) -> None:
        generator = torch.Generator().manual_seed(0)
        self.clips = torch.randn(count, VIEWS, 3, 4, 8, 8, generator=generator)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> dict:
        return {"clip": self.clips[index], "label": torch.tensor(index % CLASSES), "index": index}


def _model() -> TinyRecognizer:
    torch.manual_seed(0)
    model = TinyRecognizer(num_classes=CLASSES, width=16).eval()
    with torch.no_grad():
        model.head.weight.mul_(5)  # confident, view-dependent predictions
    return model


def _view_by_view(model, dataset, average):
    rows = []
    with torch.no_grad():
        for i in range(len(dataset)):
            logits = torch.stack([model(view[None])[0] for view in dataset[i]["clip"]])  # (V, K)
            rows.append(logits.softmax(-1).mean(0) if average == "prob" else logits.mean(0).softmax(-1))
    return torch.stack(rows)


def test_predict_averages_the_views_of_each_video_and_only_those():
    dataset, model = _Views(7), _model()
    loader = eval_loader(dataset, DistInfo(), batch_size=3, num_workers=0)  # batches of 3, 3, 1
    for average in ("prob", "score"):
        predictions = predict(model, loader, torch.device("cpu"), average)
        expected = _view_by_view(model, dataset, average)
        torch.testing.assert_close(predictions.probs, expected, rtol=1e-5, atol=1e-6)
        assert predictions.indices.tolist() == list(range(7))
        assert predictions.labels.tolist() == [i % CLASSES for i in range(7)]
    # the check has teeth: the views of one video do not all agree, and videos differ from each other
    single = torch.stack([model(dataset[i]["clip"]).argmax(-1) for i in range(7)])  # (videos, V) per-view classes
    assert any(len(set(row.tolist())) > 1 for row in single)
    assert len({tuple(row.tolist()) for row in single}) > 1


def test_scored_metrics_equal_those_of_the_view_by_view_probabilities():
    dataset, model = _Views(10), _model()
    predictions = predict(model, eval_loader(dataset, DistInfo(), 4, 0), torch.device("cpu"), "prob")
    result = score(predictions)
    expected = _view_by_view(model, dataset, "prob")
    labels = torch.tensor([i % CLASSES for i in range(10)])
    top1 = 100.0 * (expected.argmax(1) == labels).float().mean().item()
    loss = -expected[torch.arange(10), labels].log().mean().item()
    assert result["count"] == 10
    assert abs(result["top1"] - top1) < 1e-4
    assert abs(result["loss"] - loss) < 1e-4
    confusion = torch.zeros(CLASSES, CLASSES, dtype=torch.long)
    for truth, guess in zip(labels.tolist(), expected.argmax(1).tolist(), strict=True):
        confusion[truth, guess] += 1
    assert torch.equal(result["confusion"], confusion)
