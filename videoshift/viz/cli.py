"""``videoshift viz cam`` (Grad-CAM over time of a video) and ``videoshift viz shift`` (what a shift moves)."""

from __future__ import annotations

import argparse
from pathlib import Path

from videoshift.inference.arguments import add_source_arguments
from videoshift.paper_defaults import STSM_ALPHA, STSM_DIMS, TPS_PATTERN


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``viz`` command with its ``cam`` and ``shift`` figures."""
    viz = subparsers.add_parser(
        "viz",
        help="figures: Grad-CAM over time of a video, what the shift operators move",
        description="Draw what a model looks at (cam) or what a shift operator moves (shift).",
    )
    figures = viz.add_subparsers(dest="figure", metavar="FIGURE", required=True)

    cam = figures.add_parser(
        "cam",
        help="Grad-CAM heat maps of a video: PNG strip with top-5 bars, GIF, MP4",
        description="Grad-CAM over time of the clip the model sees of VIDEO (its recipe's sampling, one centre crop). "
        "Writes OUT/STEM_cam.png, .gif and .mp4.",
    )
    cam.add_argument("video", type=Path)
    add_source_arguments(cam)
    cam.add_argument("--class", dest="target", metavar="NAME|ID", help="class to explain (default: the top-1)")
    cam.add_argument(
        "--compare", metavar="TAG|DIR|FILE", help="a second model (as --weights takes it), drawn below the first"
    )
    cam.add_argument("--compare-config", metavar="CONFIG2", help="config of --compare's weights")
    cam.add_argument("--out", type=Path, default=Path("viz"), help="output folder (default: viz)")
    cam.add_argument("--fps", type=int, default=4, help="frames per second of the GIF and MP4 (default: 4)")
    cam.add_argument("--alpha", type=float, default=0.5, help="heat-map opacity over the frames (default: 0.5)")
    cam.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    cam.set_defaults(func=run_cam)

    shift = figures.add_parser(
        "shift",
        help="which frame each patch comes from (TPS pattern) or which channels STSM moves",
        description="Run a shift operator on index tensors (or on the frames of --video) and draw the result. "
        "Writes OUT/shift_<pattern or stsm>.png.",
    )
    shift.add_argument("--op", choices=("patch", "stsm"), default="patch", help="operator (default: patch)")
    shift.add_argument("--pattern", default=TPS_PATTERN, help="TPS pattern name (official, A, B, C, D, ...)")
    shift.add_argument("--video", type=Path, help="shift the patches of this video's frames (patch op)")
    shift.add_argument("--frames", type=int, help="frames T (default: patch 2x the pattern's reach+1, stsm 3)")
    shift.add_argument("--grid", type=int, help="patches per side (patch op; default: 2 pattern tiles)")
    shift.add_argument("--alpha", type=float, default=STSM_ALPHA, help="STSM share of shifted channels (default: 3/8)")
    shift.add_argument("--dims", default=STSM_DIMS, help="STSM groups (default: T+H+W)")
    shift.add_argument("--channels", type=int, default=32, help="STSM channels drawn (default: 32)")
    shift.add_argument("--out", type=Path, default=Path("viz"), help="output folder (default: viz)")
    shift.set_defaults(func=run_shift)


def run_cam(args: argparse.Namespace) -> int:
    """Explain VIDEO with one model (or two, with --compare) and write the figures."""
    from videoshift.inference.arguments import load_from_args, say_loaded, source_label
    from videoshift.inference.sources import load_model
    from videoshift.viz.cam_video import explain_video, write_cam_outputs

    if args.compare_config and not args.compare:
        raise ValueError("--compare-config needs --compare")
    if not 0.0 <= args.alpha <= 1.0:
        raise ValueError(f"--alpha must be in [0, 1], got {args.alpha}")
    loaded = load_from_args(args, args.device)
    panels = [explain_video(args.video, loaded, args.target, f"{loaded.name}\n{source_label(args)}")]
    if args.compare:
        second = load_model(weights=args.compare, config=args.compare_config, device=args.device)
        say_loaded(second)
        compare = argparse.Namespace(weights=args.compare, checkpoint=None)
        panels.append(explain_video(args.video, second, args.target, f"{second.name}\n{source_label(compare)}"))
    for panel in panels:
        top = ", ".join(f"{panel.class_name(c)} {p:.3f}" for c, p in panel.result.top(5))
        print(f"{panel.title.splitlines()[0]}: Grad-CAM of {panel.class_name(panel.result.target)!r}; top-5: {top}")
    for kind, path in write_cam_outputs(panels, args.out, Path(args.video).stem, args.fps, args.alpha).items():
        print(f"{kind}: {path}")
    return 0


def run_shift(args: argparse.Namespace) -> int:
    """Draw the patch-shift pattern or the STSM channel groups."""
    from videoshift.viz.figures import save_figure
    from videoshift.viz.shift_figures import patch_shift_figure, stsm_figure

    if args.op == "stsm":
        if args.video:
            raise ValueError("--video is for --op patch (STSM moves channels, not pixels)")
        fig = stsm_figure(args.channels, args.frames or 3, args.alpha, args.dims)
        name = f"shift_stsm_{args.dims.replace('+', '-')}"
    else:
        fig = patch_shift_figure(args.pattern, args.frames, args.grid, args.video)
        name = f"shift_{args.pattern}" + ("_video" if args.video else "")
    print(f"png: {save_figure(fig, args.out / f'{name}.png')}")
    return 0
