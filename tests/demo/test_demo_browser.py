"""The demo as a person uses it: ``videoshift demo`` in its own process and a real headless Chromium that uploads
fixture videos, reads the answer off the page, tries a broken file, records from a (fake) webcam, and tries a file
over the size limit.

Needs gradio and playwright (the ``[dev]`` extra) and Debian's ``chromium`` at ``/usr/bin/chromium`` (or
``$VIDEOSHIFT_CHROMIUM``). Playwright drives that browser; it never downloads one. Without them the test skips with
the reason, unless ``VIDEOSHIFT_BROWSER_TEST=required`` (``.ci/run`` sets it, after installing Chromium): then it
fails. With ``VIDEOSHIFT_DEMO_SCREENSHOT=docs/demo.png`` the test also saves the README's screenshot there.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from demo_model import MEDIA, VIDEOS

CHROMIUM = Path(os.environ.get("VIDEOSHIFT_CHROMIUM", "/usr/bin/chromium"))


def missing() -> str | None:
    """Why the test cannot run here, or ``None``."""
    for module in ("gradio", "playwright"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)"
    return None


if (reason := missing()) is not None:
    if os.environ.get("VIDEOSHIFT_BROWSER_TEST") == "required":  # CI: a skip would hide that the page is untested
        pytest.fail(f"the browser test is required here: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)

from playwright import sync_api  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--use-fake-device-for-media-stream",  # a synthetic camera (a turning disc) for the webcam recording
    "--use-fake-ui-for-media-stream",
]
LIMIT_MB = 1  # test.mp4 (1.35 MB) is over it, the others are under


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_served(url: str, process: subprocess.Popen, log: Path, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"videoshift demo exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"videoshift demo did not answer at {url} in {seconds:.0f} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def served(trained_checkpoint, tmp_path_factory):
    """``videoshift demo --checkpoint CKPT`` on a free port of 127.0.0.1; yields its URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("demo_server") / "server.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    # run beside the checkpoint, so that the menu (and the README's screenshot) shows a short path
    here = trained_checkpoint.parents[1]
    command = [sys.executable, "-m", "videoshift", "demo", "--checkpoint", str(trained_checkpoint.relative_to(here))]
    command += ["--port", str(port), "--max-upload-mb", str(LIMIT_MB)]
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=here)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_served(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


PROMPT = "Upload a video or record one with the webcam."  # the status line of an empty page


def clear(page) -> None:
    """Press the x of the video the page holds, if any; the page goes back to its prompt."""
    button = page.locator("#video button[aria-label='Clear']").first
    for _ in range(3):  # a click can be lost while Gradio redraws a player for a file the browser cannot play
        if not button.is_visible():
            break
        # a click event on the button itself: over a video the browser cannot play, Gradio's player draws an icon
        # that sometimes covers the x, and a mouse click at its position would land on the icon
        button.dispatch_event("click")
        try:
            sync_api.expect(page.locator("#status")).to_have_text(PROMPT, timeout=10_000)
            return
        except AssertionError:
            continue
    sync_api.expect(page.locator("#status")).to_have_text(PROMPT)


def upload(page, video: Path) -> None:
    """Clear the page's video, then choose ``video`` in the file dialog."""
    clear(page)
    page.locator("#video input[type=file]").set_input_files(video)


def test_uploads_webcam_and_broken_files(served, tmp_path):
    expect = sync_api.expect
    expect.set_options(timeout=20_000)  # answers come from a model on a CPU that may be busy with other tests
    outside = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1000}, permissions=["camera"])
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.on(
                "request",
                lambda r: outside.append(r.url) if urlsplit(r.url).hostname not in ("127.0.0.1", None) else None,
            )
            page.goto(served)
            status, top5 = page.locator("#status"), page.locator("#top5")
            expect(status).to_have_text(PROMPT)

            upload(page, VIDEOS / "demo.mp4")
            expect(status).to_contain_text("Top class: arm wrestling")
            expect(top5.get_by_test_id("label-output-value")).to_have_text("arm wrestling")
            expect(page.locator("#frames img")).to_have_count(1)  # the model's sampled frames, in a row
            expect(page.locator("#cam img")).to_have_attribute("src", re.compile(r"\.gif$"))
            expect(page.locator("#cost")).to_contain_text("GMACs per clip (4 frames of 64×64)")
            page.wait_for_timeout(500)  # let the images finish painting
            shot = page.screenshot(path=tmp_path / "demo.png", full_page=True)
            if os.environ.get("VIDEOSHIFT_DEMO_SCREENSHOT"):
                Path(os.environ["VIDEOSHIFT_DEMO_SCREENSHOT"]).write_bytes(shot)

            upload(page, VIDEOS / "part_0.mp4")  # a cut of the pool scene the model never saw
            expect(status).to_contain_text("Top class: cleaning pool")

            upload(page, MEDIA / "videos_derived" / "demo_truncated40.mp4")
            expect(status).to_contain_text("demo_truncated40.mp4 is not a video this demo can read")
            expect(page.locator("#frames img")).to_have_count(0)

            clear(page)  # record 4 s from the (fake) webcam (enough frames on a busy machine): any answer will do
            page.locator("#video button[aria-label='Capture from camera']").click()
            page.get_by_text("Click to Access Webcam").click()
            record = page.locator("#video button[aria-label='start recording']")
            record.click()
            expect(record).to_have_text("Stop")
            page.wait_for_timeout(4000)
            record.click()
            expect(status).to_contain_text("Top class: ")
            expect(page.locator("#frames img")).to_have_count(1)
            page.locator("#video button[aria-label='Upload file']").click()

            upload(page, VIDEOS / "test.mp4")  # 1.35 MB: Gradio refuses it before it reaches the server
            expect(page.get_by_text("exceed the maximum allowed size")).to_be_visible()
            expect(status).to_have_text(PROMPT)
        finally:
            browser.close()
    assert outside == [], "the page fetched from outside this machine"
