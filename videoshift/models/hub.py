"""Download, cache, verify and load the weights of :mod:`videoshift.models.weights`.

Files go to ``$VIDEOSHIFT_CACHE/weights/<tag>/<file name>`` (default cache: ``<torch hub dir>/videoshift``). A
download is written to ``<file>.part`` and renamed only after it is complete and verified, so an interrupted
download never looks like a cached file. Every failure (no network, hash mismatch, truncated or partial file, a file
that must be placed by hand) raises :class:`WeightsError` naming the URL, the cache path and how to place the file
by hand on an offline machine.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import torch

from videoshift.models.checkpoint import CheckpointError, StateDict, read_state_dict
from videoshift.models.weights import WeightSpec

logger = logging.getLogger(__name__)

CHUNK = 1 << 20


class WeightsError(CheckpointError):
    """Published weights cannot be fetched, verified or loaded; the message says how to fix it by hand."""


def cache_dir() -> Path:
    """``$VIDEOSHIFT_CACHE``, else ``videoshift`` under torch's hub directory."""
    env = os.environ.get("VIDEOSHIFT_CACHE")
    return Path(env).expanduser() if env else Path(torch.hub.get_dir()) / "videoshift"


def cached_path(spec: WeightSpec) -> Path:
    """Where the file of ``spec`` lives in the cache."""
    name = spec.source.file_name if spec.urls else f"{spec.tag}.pth"
    return cache_dir() / "weights" / spec.tag / name


def sha256sum(path: str | Path) -> str:
    """The sha256 of a file, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _by_hand(spec: WeightSpec, path: Path) -> str:
    where = spec.urls[0] if spec.urls else spec.page
    return (
        f"to place it by hand (e.g. on an offline cluster): download {where} on a machine with network access and "
        f"copy it to {path} (set VIDEOSHIFT_CACHE to use another cache folder)"
    )


def verify(spec: WeightSpec, path: Path) -> None:
    """Check ``path`` against what the upstream publishes for ``spec``; raises :class:`WeightsError`."""
    if spec.verification == "none":
        logger.warning("%s: the upstream publishes no checksum or size; %s is loaded unverified", spec.tag, path)
        return
    size = path.stat().st_size
    problem = None
    if spec.size is not None and size != spec.size:
        problem = f"it has {size} bytes, the upstream lists {spec.size} (a partial or different file)"
    elif spec.verification in ("sha256", "sha256-prefix"):
        digest = sha256sum(path)
        want = spec.sha256 if spec.verification == "sha256" else spec.sha256_prefix
        if not want or not digest.startswith(want.lower()):
            how = "sha256" if spec.verification == "sha256" else "the sha256 prefix in the upstream file name"
            problem = f"its sha256 is {digest}, which does not match {how} ({want}) (a partial or corrupted file?)"
    if problem:
        raise WeightsError(
            f"weights {spec.tag}: {path} fails verification: {problem}; delete it and retry, or " + _by_hand(spec, path)
        )


def _download(url: str, part: Path, timeout: float) -> None:
    """Stream ``url`` into ``part``; raises on network errors and on a body shorter than its Content-Length."""
    with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
        expected = response.headers.get("Content-Length")
        received = 0
        for chunk in iter(lambda: response.read(CHUNK), b""):
            out.write(chunk)
            received += len(chunk)
    if expected is not None and received != int(expected):
        raise OSError(f"truncated download: {received} of {expected} bytes")


def fetch(spec: WeightSpec, *, timeout: float = 60.0) -> Path:
    """The verified local file of ``spec``: from the cache, else downloaded into it (once)."""
    path = cached_path(spec)
    if path.is_file():
        verify(spec, path)
        return path
    if not spec.downloadable:
        reason = "it has no download URL" if not spec.urls else "the upstream publishes no checksum or size for it"
        raise WeightsError(
            f"weights {spec.tag} are not downloaded automatically ({reason}) and are not in the "
            f"cache; " + _by_hand(spec, path)
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    errors = []
    for url in spec.urls:
        logger.info("downloading %s to %s", url, path)
        try:
            _download(url, part, timeout)
            verify(spec, part)
        except (OSError, urllib.error.URLError, ValueError) as error:
            errors.append(f"{url}: {error}")
            part.unlink(missing_ok=True)
            continue
        shutil.move(part, path)
        return path
    raise WeightsError(f"weights {spec.tag}: download failed ({'; '.join(errors)}); " + _by_hand(spec, path))


def read_weights(spec: WeightSpec, path: Path) -> StateDict:
    """The tensors of a fetched file (``weights_only`` loading; see :func:`read_upstream_state_dict`)."""
    try:
        return read_state_dict(path)
    except CheckpointError as error:
        if spec.verification == "none" or path.suffix == ".safetensors":
            raise
        logger.info("%s: %s; reading its tensors with stubbed metadata objects", spec.tag, error)
        return read_upstream_state_dict(path)


class _Stub:
    """Stands in for any non-tensor object in a checkpoint's metadata (never constructed from the file's code)."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __setstate__(self, state) -> None:
        pass


def read_upstream_state_dict(path: str | Path) -> StateDict:
    """Tensors of a checkpoint whose metadata holds classes ``weights_only`` refuses (e.g. mmengine's logs).

    Only torch's tensor-rebuilding functions and plain containers are resolved; every other class the pickle names
    becomes an inert :class:`_Stub`, so no code from the file runs. Used only for files whose checksum matched.
    """
    import collections
    import pickle
    import types

    allowed = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
        ("torch", "Size"): torch.Size,
    }

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str):
            if (module, name) in allowed:
                return allowed[(module, name)]
            if module == "torch" and name.endswith("Storage"):
                return getattr(torch, name)
            if module == "torch" and name == "device":
                return torch.device
            return type(name, (_Stub,), {})

    module = types.SimpleNamespace(Unpickler=Unpickler, load=pickle.load, __name__="videoshift_stub_pickle")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False, pickle_module=module)
    except Exception as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
    return read_state_dict(state)


def load_weights(model: torch.nn.Module, spec: WeightSpec, *, strict_head: bool = True) -> None:
    """Fetch, convert (the model's ``checkpoint_filter``) and load ``spec`` strictly into ``model``.

    With ``strict_head`` the classifier must load too; otherwise a head of another size is re-initialised.
    """
    from videoshift.models.checkpoint import load_checkpoint

    path = fetch(spec)
    try:
        report = load_checkpoint(model, read_weights(spec, path))
    except CheckpointError as error:
        raise WeightsError(f"weights {spec.tag} ({path}) do not load into {spec.model}: {error}") from error
    if strict_head and report.skipped_head:
        raise WeightsError(f"weights {spec.tag} ({path}): classifier not loaded ({', '.join(report.skipped_head)})")
