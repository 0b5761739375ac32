"""Where ``create_model(..., pretrained=True)`` finds a backbone's ImageNet weights, without a retry storm offline.

Which weights: timm names a pretrained file ``<architecture>.<tag>``. The CNN papers (TSN, TSM, TANet, TDN, STSM)
and MMAction2 start from torchvision's ResNet ImageNet weights, which timm publishes as ``resnet50.tv_in1k`` (timm's
default ``resnet50.a1_in1k`` was trained with another recipe); :data:`PAPER_IMAGENET` pins those per backbone.

Where from, in order: the file placed by hand at :func:`placed_path` (``$VIDEOSHIFT_CACHE/imagenet/<name>/
model.safetensors``), the Hugging Face cache, then one download from the Hub. Offline, that download would retry
each of timm's files for about half a minute; here ``HF_HUB_OFFLINE=1`` skips it and otherwise a single request
with a short timeout checks that the Hub answers first. Either way the failure is one line
(:class:`ImageNetWeightsError`) naming the file, where to place it, and the offline switch.
"""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)

PAPER_IMAGENET = {
    "resnet18": "resnet18.tv_in1k",
    "resnet34": "resnet34.tv_in1k",
    "resnet50": "resnet50.tv_in1k",
    "resnet101": "resnet101.tv_in1k",
    "resnet152": "resnet152.tv_in1k",
}
"""The ImageNet weights of a CNN backbone (timm name) that the papers started from: torchvision's."""
HUB_FILE = "model.safetensors"
PROBE_TIMEOUT_S = 5.0


class ImageNetWeightsError(ValueError):
    """A backbone's ImageNet weights are neither on this machine nor downloadable; the message says what to do."""


def imagenet_name(backbone: str) -> str:
    """The timm pretrained name ``<architecture>.<tag>`` whose weights a CNN with ``backbone`` starts from: the
    papers' (:data:`PAPER_IMAGENET`) where they are known, else timm's default tag, written out so that a change of
    timm's default cannot change it silently."""
    if "." in backbone:
        return backbone
    if backbone in PAPER_IMAGENET:
        return PAPER_IMAGENET[backbone]
    from timm.models import get_pretrained_cfg

    config = get_pretrained_cfg(backbone)
    return f"{backbone}.{config.tag}" if config is not None and config.tag else backbone


def placed_path(name: str) -> Path:
    """Where a file placed by hand for timm's ``name`` is looked for: ``<videoshift cache>/imagenet/<name>/``."""
    from videoshift.models.hub import cache_dir

    return cache_dir() / "imagenet" / name / HUB_FILE


def imagenet_file(name: str) -> Path:
    """The local file of timm's pretrained ``name``: placed by hand, in the Hugging Face cache, or downloaded.

    Raises:
        ImageNetWeightsError: timm publishes no such weights on the Hub, or they are not here and cannot be
            downloaded (``HF_HUB_OFFLINE=1``, or the Hub does not answer).
    """
    placed = placed_path(name)
    if placed.is_file():
        return placed
    from huggingface_hub import constants, hf_hub_download, hf_hub_url, try_to_load_from_cache
    from timm.models import get_pretrained_cfg

    config = get_pretrained_cfg(name)
    if config is None or not config.hf_hub_id:
        raise ImageNetWeightsError(f"timm publishes no ImageNet weights named {name} on the Hugging Face Hub")
    repo, file = config.hf_hub_id, config.hf_hub_filename or HUB_FILE
    cached = try_to_load_from_cache(repo, file)
    if isinstance(cached, str):
        return Path(cached)
    url = hf_hub_url(repo, file)
    reason = "HF_HUB_OFFLINE=1 forbids downloads" if constants.HF_HUB_OFFLINE else _unreachable(url)
    if reason is None:
        logger.info("downloading the ImageNet weights %s from %s", name, url)
        try:
            return Path(hf_hub_download(repo, file))
        except Exception as error:  # any failure of the one download: say it in one line with the way out
            reason = f"{type(error).__name__}: {error}".strip().splitlines()[0]
    raise ImageNetWeightsError(
        f"ImageNet weights {name} (timm, Hugging Face file {url}) are not on this machine and cannot be downloaded "
        f"({reason}): download that file where there is network and copy it to {placed}; with HF_HUB_OFFLINE=1 "
        "nothing is tried online (or use pretrained=false)"
    )


def _unreachable(url: str) -> str | None:
    """Why one request to the Hub fails within :data:`PROBE_TIMEOUT_S` (``None``: it answers)."""
    from huggingface_hub.utils import get_session

    try:
        get_session().head(url, timeout=PROBE_TIMEOUT_S)
    except Exception as error:  # DNS, refused, timeout, proxy: the Hub cannot be reached from here
        return f"{url.split('/')[2]} cannot be reached: {type(error).__name__}: {error}".splitlines()[0]
    return None
