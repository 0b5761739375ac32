"""Peak memory of one pass of a benchmarked model (:mod:`videoshift.bench.specs` builds and feeds it).

Peak memory covers everything one pass needs: the weights, the input, the activations and, for a
training step, the gradients and the optimiser state.

- CUDA: the caching allocator's peak (``torch.cuda.max_memory_allocated``), reset before the
  model is built and measured against what was allocated before it.
- CPU: a process's peak resident set size only grows, so a model measured after another would
  hide behind the other's peak. Every CPU measurement therefore runs in a fresh Python process
  (``python -m videoshift.bench.memory REQUEST``) that takes its baseline once it has imported
  everything and reports the growth of its peak RSS over it. On Linux the peak is the kernel's
  high-water mark ``VmHWM``, reset at the baseline (``/proc/self/clear_refs``), minus ``VmRSS`` at
  the baseline: ``ru_maxrss`` of a spawned child starts at the parent's RSS at spawn time (the
  kernel carries it over at exec), which would hide any model smaller than the parent. Elsewhere
  the figure is the ``ru_maxrss`` growth.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
from dataclasses import asdict

import torch
from torch import nn

from videoshift.bench.choices import MODES
from videoshift.bench.specs import ModelSpec, RunSettings, build_model, import_modules, make_clip, training_step

STREAM = "stream"  # one streaming step of one frame (videoshift.deploy.stream), measured by ``bench stream``


def run_pass(model: nn.Module, clip: torch.Tensor, mode: str) -> None:
    """One inference pass, or one training step (forward, cross-entropy, backward, AdamW step)."""
    if mode == "inference":
        model.eval()
        with torch.inference_mode():
            model(clip)
    elif mode == "train":
        training_step(model.train(), clip, torch.optim.AdamW(model.parameters(), lr=1e-4))
    elif mode == STREAM:
        from videoshift.deploy.stream import StepNet, streaming_model

        step = StepNet(streaming_model(model, copy=False), copy=False)
        with torch.inference_mode():
            step(clip[:, :, :1])
    else:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def _measure_here(spec: ModelSpec, settings: RunSettings, batch: int, mode: str) -> None:
    """Build, feed and run once; everything is released on return."""
    model = build_model(spec, settings)
    run_pass(model, make_clip(spec, settings, batch), mode)


def _cuda_peak(spec: ModelSpec, settings: RunSettings, batch: int, mode: str) -> int:
    device = torch.device(settings.device)
    gc.collect()
    torch.cuda.synchronize(device)
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    baseline = torch.cuda.memory_allocated(device)
    _measure_here(spec, settings, batch, mode)
    torch.cuda.synchronize(device)
    peak = torch.cuda.max_memory_allocated(device) - baseline
    gc.collect()
    torch.cuda.empty_cache()
    return peak


def _proc_status_bytes(field_name: str) -> int:
    """A ``kB`` field of ``/proc/self/status`` (Linux), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
    raise ValueError(f"/proc/self/status has no field {field_name!r}")


class PeakRss:
    """Growth of this process's peak resident set size since :meth:`start`."""

    def __init__(self) -> None:
        self._baseline = 0
        self._use_proc = False

    def start(self) -> int:
        """Take the baseline (resetting the kernel's high-water mark where possible); returns it in bytes."""
        try:
            with open("/proc/self/clear_refs", "w") as clear_refs:
                clear_refs.write("5")  # resets VmHWM to the current RSS
            self._use_proc, self._baseline = True, _proc_status_bytes("VmRSS")
        except OSError:
            self._use_proc, self._baseline = False, _ru_maxrss_bytes()
        return self._baseline

    def growth(self) -> int:
        """Bytes the peak grew by since :meth:`start`."""
        peak = _proc_status_bytes("VmHWM") if self._use_proc else _ru_maxrss_bytes()
        return max(peak - self._baseline, 0)


def _ru_maxrss_bytes() -> int:
    """``ru_maxrss`` in bytes (it is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _cpu_peak_in_subprocess(spec: ModelSpec, settings: RunSettings, batch: int, mode: str) -> int:
    request = json.dumps({"spec": asdict(spec), "settings": asdict(settings), "batch": batch, "mode": mode})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [sys.executable, "-m", "videoshift.bench.memory", request], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory measurement of {spec.label!r} ({mode}) failed:\n{done.stderr[-2000:]}")
    return int(json.loads(done.stdout.strip().splitlines()[-1])["peak_bytes"])


def peak_memory(spec: ModelSpec, settings: RunSettings, *, batch: int, mode: str) -> int:
    """Peak bytes one pass of ``spec`` needs (``mode``: ``"inference"`` or ``"train"``), model included."""
    if mode not in (*MODES, STREAM):
        raise ValueError(f"mode must be one of {(*MODES, STREAM)}, got {mode!r}")
    if torch.device(settings.device).type == "cuda":
        return _cuda_peak(spec, settings, batch, mode)
    return _cpu_peak_in_subprocess(spec, settings, batch, mode)


def _subprocess_main(request_json: str) -> None:
    """Measure one CPU request in this fresh process and print ``{"peak_bytes": N, ...}`` as JSON."""
    request = json.loads(request_json)
    settings = RunSettings(**{**request["settings"], "imports": tuple(request["settings"]["imports"])})
    spec = ModelSpec(**request["spec"])

    import_modules(settings.imports)
    if settings.threads is not None:
        torch.set_num_threads(settings.threads)
    torch.ones(64, 64) @ torch.ones(64, 64)  # start the thread pool before the baseline
    peak = PeakRss()
    baseline = peak.start()
    _measure_here(spec, settings, request["batch"], request["mode"])
    print(json.dumps({"peak_bytes": peak.growth(), "baseline_bytes": baseline}))


if __name__ == "__main__":
    _subprocess_main(sys.argv[1])
