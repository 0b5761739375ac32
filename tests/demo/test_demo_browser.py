"""The demo as a person uses it: ``videoshift demo`` in its own process and a real headless Chromium that uploads
fixture videos, reads the answer off the page, tries a broken file, records from a (fake) webcam, and tries a file
over the size limit.

Needs gradio and playwright (the ``[dev]`` extra) and Debian's ``chromium`` at ``/usr/bin/chromium`` (or
``$VIDEOSHIFT_CHROMIUM``). Playwright drives that browser; it never downloads one. Without them the test skips with
the reason, unless ``VIDEOSHIFT_BROWSER_TEST=required`` (``.ci/run`` sets it, after installing Chromium): then it
fails. With ``VIDEOSHIFT_DEMO_SCREENSHOT=docs/demo.png`` the test also saves the README's screenshot there.

It ends, passed or failed, within a fixed wall-clock budget, even on a loaded machine: the demo must answer within
``STARTUP_S`` and the browser session is guarded by a :class:`~watchdog.Watchdog` of ``BUDGET_S`` that kills
Chromium and the demo server (each leads its own process group) and fails the test naming the step it was waiting
for. (A run of the suite on a busy 2-core machine once stalled here for over 15 minutes with the renderers spinning;
Playwright's own timeouts are no guard when the call they belong to never comes back.)

What made the renderer spin was the webcam recording. Chromium's default fake camera draws a 640x480 picture at 30
frames per second, and the page's MediaRecorder encodes every frame to WebM in the renderer: measured with the
renderer's CPU time, about 6 % of a core with the page idle, 20 % with the camera's preview, and 80-95 % while
recording, on a quiet machine; on a machine whose cores are already busy, the renderer cannot keep up. Gradio's
animations are not it (``reduced_motion="reduce"`` changed nothing measurable). The test therefore feeds Chromium
a camera of its own, :func:`write_fake_camera`: a 160x120 Y4M file at 5 frames per second
(``--use-file-for-fake-video-capture``); recording it costs about 8 % of a core, as little as the idle page.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from demo_model import MEDIA, VIDEOS
from watchdog import Watchdog

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
    "--use-fake-device-for-media-stream",  # a camera that plays write_fake_camera's file (an argument of its own)
    "--use-fake-ui-for-media-stream",
]
LIMIT_MB = 1  # test.mp4 (1.35 MB) is over it, the others are under
STARTUP_S = 180.0  # for the demo server to answer: importing torch and Gradio took over 90 s on a busy 2-core machine
BUDGET_S = 240.0  # for the whole browser session (about 30 s on a quiet machine)
CAMERA = {"width": 160, "height": 120, "fps": 5, "frames": 10}  # a 2 s loop; the recording takes 20 frames in 4 s


def write_fake_camera(path: Path) -> Path:
    """Write the fake camera's video to ``path``: a bright square crossing a dark frame, as a Y4M (raw 4:2:0) file.

    Small and slow on purpose: Chromium's own fake camera draws 640x480 at 30 frames per second and the page's
    recorder encodes each frame, which kept a renderer busy on a loaded machine (see the module's docstring).
    """
    width, height, fps, frames = CAMERA["width"], CAMERA["height"], CAMERA["fps"], CAMERA["frames"]
    chroma = np.full(width * height // 2, 128, dtype=np.uint8)  # U and V planes (half width, half height): grey
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for index in range(frames):
            luma = np.full((height, width), 32, dtype=np.uint8)
            left = index * (width - 40) // (frames - 1)
            luma[40:80, left : left + 40] = 224
            out.write(b"FRAME\n" + luma.tobytes() + chroma.tobytes())
    return path


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_served(url: str, process: subprocess.Popen, log: Path, seconds: float = STARTUP_S) -> None:
    """Return once ``url`` answers 200; fail with the server's log if it exits or stays silent for ``seconds``."""
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
    with open(log, "w") as out:  # its own session: a kill of its group (here, or by the watchdog) ends all of it
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=here, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_served(url, process, log)
        yield url
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the process group that ``process`` leads; SIGKILL it if it is not gone in 20 s."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError):  # the watchdog killed it already
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


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
    """Two uploads answered right, a broken file refused, a webcam recording answered, an oversized file refused;
    within ``BUDGET_S`` (the watchdog's), and without a request to another host."""
    expect = sync_api.expect
    expect.set_options(timeout=20_000)  # answers come from a model on a CPU that may be busy with other tests
    camera = write_fake_camera(tmp_path / "camera.y4m")
    outside = []
    with Watchdog(BUDGET_S) as dog, sync_api.sync_playwright() as playwright:
        dog.step = "Chromium to start"
        args = [*BROWSER_ARGS, f"--use-file-for-fake-video-capture={camera}"]
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1000}, permissions=["camera"])
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.on(
                "request",
                lambda r: outside.append(r.url) if urlsplit(r.url).hostname not in ("127.0.0.1", None) else None,
            )
            dog.step = f"the page at {served} to load and show its prompt"
            page.goto(served)
            status, top5 = page.locator("#status"), page.locator("#top5")
            expect(status).to_have_text(PROMPT)

            dog.step = "the answer to demo.mp4 (arm wrestling, Grad-CAM, frames, cost)"
            upload(page, VIDEOS / "demo.mp4")
            expect(status).to_contain_text("Top class: arm wrestling")
            expect(top5.get_by_test_id("label-output-value")).to_have_text("arm wrestling")
            expect(page.locator("#frames img")).to_have_count(1)  # the model's sampled frames, in a row
            expect(page.locator("#cam img")).to_have_attribute("src", re.compile(r"\.gif$"))
            expect(page.locator("#cost")).to_contain_text("GMACs per clip (4 frames of 64×64)")
            dog.step = "the screenshot"
            page.wait_for_timeout(500)  # let the images finish painting
            shot = page.screenshot(path=tmp_path / "demo.png", full_page=True)
            if os.environ.get("VIDEOSHIFT_DEMO_SCREENSHOT"):
                Path(os.environ["VIDEOSHIFT_DEMO_SCREENSHOT"]).write_bytes(shot)

            dog.step = "the answer to part_0.mp4 (cleaning pool)"
            upload(page, VIDEOS / "part_0.mp4")  # a cut of the pool scene the model never saw
            expect(status).to_contain_text("Top class: cleaning pool")

            dog.step = "the message for the broken demo_truncated40.mp4"
            upload(page, MEDIA / "videos_derived" / "demo_truncated40.mp4")
            expect(status).to_contain_text("demo_truncated40.mp4 is not a video this demo can read")
            expect(page.locator("#frames img")).to_have_count(0)

            dog.step = "the webcam to open and start recording"
            clear(page)  # record 4 s from the (fake) webcam (20 frames at 5 per second): any answer will do
            page.locator("#video button[aria-label='Capture from camera']").click()
            page.get_by_text("Click to Access Webcam").click()
            record = page.locator("#video button[aria-label='start recording']")
            record.click()
            expect(record).to_have_text("Stop")
            dog.step = "the webcam recording (4 s) and its answer"
            page.wait_for_timeout(4000)
            record.click()
            expect(status).to_contain_text("Top class: ")
            expect(page.locator("#frames img")).to_have_count(1)
            page.locator("#video button[aria-label='Upload file']").click()  # closes the camera

            dog.step = "the refusal of test.mp4 (over the size limit)"
            upload(page, VIDEOS / "test.mp4")  # 1.35 MB: Gradio refuses it before it reaches the server
            expect(page.get_by_text("exceed the maximum allowed size")).to_be_visible()
            expect(status).to_have_text(PROMPT)
            dog.step = "Chromium to close"
        finally:
            browser.close()
    assert outside == [], "the page fetched from outside this machine"
