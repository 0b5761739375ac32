"""Downloading, caching, verifying and loading named weights, without network: a local HTTP server and file://."""

import dataclasses
import hashlib
import http.server
import threading
from types import MappingProxyType
from typing import ClassVar

import engine_standins
import pytest
import torch

from videoshift.models import create_model, hub, weights
from videoshift.models.weights import get_weights


class _Handler(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict] = {}
    hits: ClassVar[list] = []

    def do_GET(self):
        self.hits.append(self.path)
        body, declared = self.files.get(self.path, (None, None))
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler
    httpd.shutdown()


@pytest.fixture
def tiny(tmp_path, monkeypatch, server):
    """A stand-in model's converted weights served locally, and a spec that names them."""
    engine_standins.register(monkeypatch)
    monkeypatch.setenv("VIDEOSHIFT_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(0)
    model = create_model(engine_standins.MODEL_NAME, num_classes=400)
    meta = {"epoch": 3, "note": "plain metadata"}
    torch.save({"state_dict": model.state_dict(), "meta": meta}, tmp_path / "tiny.pth")
    data = (tmp_path / "tiny.pth").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    base, handler = server
    handler.files.clear()
    handler.hits.clear()
    handler.files["/tiny.pth"] = (data, len(data))
    template = get_weights("tsm_r50.k400_mmaction2_8f")
    spec = dataclasses.replace(
        template,
        tag=f"{engine_standins.MODEL_NAME}.k400_test_4f",
        model=engine_standins.MODEL_NAME,
        kwargs=MappingProxyType({"num_classes": 400}),
        urls=(f"{base}/tiny.pth",),
        sha256_prefix=digest[:8],
        source=dataclasses.replace(template.source, file_name="tiny_20240101-abcdef12.pth"),
    )
    monkeypatch.setitem(weights._BY_TAG, spec.tag, spec)
    return spec, model, data, digest, handler


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_download_once_verify_and_load_strictly(tiny):
    spec, reference, _, _, handler = tiny
    model = create_model(spec.model, pretrained=spec.tag)
    assert _same(model, reference)
    path = hub.cached_path(spec)
    assert path.is_file() and not path.with_name(path.name + ".part").exists()
    create_model(spec.model, pretrained="k400_test_4f")  # short tag; from the cache
    assert handler.hits == ["/tiny.pth"]


def test_full_sha256_and_size_verification(tiny):
    spec, _, data, digest, _ = tiny
    hub.fetch(dataclasses.replace(spec, verification="sha256", sha256=digest, size=len(data)))
    bad = dataclasses.replace(spec, verification="sha256", sha256="0" * 64)
    with pytest.raises(hub.WeightsError, match="fails verification"):
        hub.fetch(bad)  # the cached file is checked again against the spec


def test_hash_mismatch_names_url_cache_path_and_the_way_by_hand(tiny):
    spec, *_ = tiny
    bad = dataclasses.replace(spec, sha256_prefix="00000000")
    with pytest.raises(hub.WeightsError) as info:
        hub.fetch(bad)
    message = str(info.value)
    path = hub.cached_path(bad)
    assert spec.urls[0] in message and str(path) in message and "by hand" in message and "00000000" in message
    assert not path.exists() and not list(path.parent.glob("*.part"))


def test_truncated_download_is_not_cached(tiny):
    spec, _, data, _, handler = tiny
    handler.files["/tiny.pth"] = (data[: len(data) // 2], len(data))  # the connection ends early
    with pytest.raises(hub.WeightsError, match=r"truncated|fails verification") as info:
        hub.fetch(spec)
    assert str(hub.cached_path(spec)) in str(info.value) and not hub.cached_path(spec).exists()


def test_missing_file_and_no_network(tiny):
    spec, *_ = tiny
    missing = dataclasses.replace(spec, urls=(spec.urls[0].replace("tiny", "gone"),))
    with pytest.raises(hub.WeightsError, match="404") as info:
        hub.fetch(missing)
    assert "gone.pth" in str(info.value)
    offline = dataclasses.replace(spec, urls=("http://127.0.0.1:9/tiny.pth",))  # discard port: refused
    with pytest.raises(hub.WeightsError, match="download failed"):
        hub.fetch(offline)


def test_partial_file_in_the_cache(tiny):
    spec, _, data, _, _ = tiny
    path = hub.cached_path(spec)
    path.parent.mkdir(parents=True)
    path.with_name(path.name + ".part").write_bytes(data[:100])  # an interrupted earlier download: ignored
    assert hub.fetch(spec) == path and path.read_bytes() == data
    path.write_bytes(data[:100])  # a truncated copy placed by hand: refused, with the way out
    with pytest.raises(hub.WeightsError, match="delete it and retry"):
        create_model(spec.model, pretrained=spec.tag)


def test_file_url(tiny, tmp_path):
    spec, _, data, _, _ = tiny
    local = dataclasses.replace(spec, urls=((tmp_path / "tiny.pth").as_uri(),))
    assert hub.fetch(local).read_bytes() == data


def test_weights_without_a_published_check_are_placed_by_hand(tiny, caplog):
    spec, reference, data, _, handler = tiny
    by_hand = dataclasses.replace(spec, verification="none", sha256_prefix=None)
    with pytest.raises(hub.WeightsError, match="not downloaded automatically") as info:
        hub.fetch(by_hand)
    path = hub.cached_path(by_hand)
    assert str(path) in str(info.value) and spec.urls[0] in str(info.value) and handler.hits == []
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    model = create_model(spec.model, num_classes=400)
    hub.load_weights(model, by_hand)
    assert _same(model, reference) and "unverified" in caplog.text


def test_another_head_size_reinitialises_the_classifier(tiny):
    spec, reference, *_ = tiny
    model = create_model(spec.model, pretrained=spec.tag, num_classes=5)
    assert model.head.out_features == 5
    assert torch.equal(model.conv.weight, reference.conv.weight)


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > pwned.txt",))


def test_upstream_metadata_objects_are_stubbed_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state = {"w": torch.arange(4.0)}
    torch.save({"state_dict": state, "meta": {"hook": _Evil()}}, tmp_path / "ckpt.pth")
    loaded = hub.read_upstream_state_dict(tmp_path / "ckpt.pth")
    assert torch.equal(loaded["w"], state["w"]) and not (tmp_path / "pwned.txt").exists()
