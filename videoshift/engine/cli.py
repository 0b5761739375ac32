"""``videoshift train``, ``videoshift test`` and ``videoshift predict``: argument parsing over :mod:`runner`."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from pathlib import Path

from videoshift.data.folders import video_files
from videoshift.engine.progress import setup_logging
from videoshift.inference.arguments import add_source_arguments
from videoshift.report import add_output_arguments


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the train, test and predict commands."""
    train = subparsers.add_parser(
        "train",
        help="train a model from a YAML config (no config: the built-in synthetic comparison)",
        description="Train the runs of CONFIG (a YAML file or a built-in config name) into --work-dir.",
    )
    train.add_argument("config", nargs="?", help="YAML config file or built-in name (default: synthetic_default)")
    train.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set train.epochs=3 (repeatable)",
    )
    train.add_argument("--work-dir", type=Path, default=Path("work_dirs"), help="runs go to WORK_DIR/<run name>")
    train.add_argument("--resume", action="store_true", help="continue each run from its latest checkpoint")
    add_output_arguments(train)  # --json / --markdown copies of the comparison table
    train.set_defaults(func=run_train)

    test = subparsers.add_parser(
        "test",
        help="evaluate a model with multi-view testing",
        description="Evaluate a model (--weights or --checkpoint) on the test split of CONFIG's data, reading each "
        "video with the model's recipe; a plain weights file is read as CONFIG's model.",
    )
    test.add_argument("config", help="YAML config file or built-in name (its data section is used)")
    add_source_arguments(test, config=False)
    test.add_argument("--views", help="CLIPSxCROPS, e.g. 4x3 (default: the model's recipe)")
    test.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    test.add_argument(
        "--out",
        type=Path,
        help="folder for results.json and confusion.npy (default: beside the checkpoint, or work_dirs/test_<weights>)",
    )
    test.set_defaults(func=run_test)

    pred = subparsers.add_parser(
        "predict",
        help="top-k classes of video files",
        description="Top-k classes of video files (files, folders, globs) with the test protocol of the weights; "
        "an unreadable file is reported in one line and the others carry on (exit code 1 if any failed).",
    )
    pred.add_argument(
        "videos", nargs="+", help="video files, folders (their videos) or glob patterns; with --stream also a camera"
    )
    add_source_arguments(pred)
    pred.add_argument("--top-k", type=int, default=5)
    pred.add_argument("--batch-size", type=int, default=4)
    pred.add_argument("--num-workers", type=int, default=0)
    pred.add_argument("--device", default="auto")
    pred.add_argument("--json", action="store_true", help="print the results as JSON")
    pred.add_argument("--stream", action="store_true", help="online: print a running top-k as the video plays")
    pred.add_argument("--window", type=int, default=8, help="with --stream: average the last N frame scores")
    pred.add_argument("--every", type=int, default=1, help="with --stream: print every N-th frame")
    pred.set_defaults(func=run_predict)


def run_train(args: argparse.Namespace) -> int:
    """Train every run of the config, print the side-by-side table and save it (JSON, Markdown, PNG) in the
    work dir as ``<config name>.json``, ``.md`` and ``.png``."""
    from videoshift.engine import distributed
    from videoshift.engine.config import load_config
    from videoshift.engine.runner import plot_comparison, train_runs
    from videoshift.engine.train import TrainingDiverged
    from videoshift.report import environment, report

    setup_logging()
    cfg = load_config(args.config, args.overrides)
    seed = cfg["train"]["seed"]
    main_rank = os.environ.get("RANK", "0") == "0"  # torchrun: one table, from rank 0
    if main_rank:
        print(f"videoshift train {cfg['name']}: seed {seed} (--set train.seed=N to change)", flush=True)
    try:
        rows = train_runs(cfg, args.work_dir, resume=args.resume)
    except TrainingDiverged as exc:
        logging.getLogger("videoshift.train").error("%s", exc)
        return 1
    finally:
        distributed.cleanup()
    if main_rank:
        columns = ["name", "model", "top1", "best_epoch", "top5", "params", "gmacs", "latency_ms", "latency_x"]
        if any(row.get("paper_top1") is not None for row in rows):
            columns += ["paper_top1", "paper_gmacs"]
        columns.append("minutes")
        for row in rows:
            print(f"{row['name']}: {row['run_dir']}")
        device = distributed.resolve_device(cfg["train"]["device"])
        env = {**environment(device), "seed": seed}
        title = f"videoshift train {cfg['name']} (seed {seed})"
        stem = args.work_dir / cfg["name"]
        width = None if sys.stdout.isatty() else 200  # piped: do not fold the wide table to 80 columns
        report(
            title,
            rows,
            columns,
            env,
            json_path=stem.with_suffix(".json"),
            markdown_path=stem.with_suffix(".md"),
            width=width,
        )
        for copy, suffix in ((args.json, ".json"), (args.markdown, ".md")):  # where the command line asks, too
            if copy is not None:
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(stem.with_suffix(suffix), copy)
        plot_comparison(rows, stem.with_suffix(".png"), title)
        print(f"table: {stem.with_suffix('.json')}, {stem.with_suffix('.md')}, {stem.with_suffix('.png')}")
    return 0


def run_test(args: argparse.Namespace) -> int:
    """Evaluate a model on the config's test split, print the metrics (and the upstream's top-1 for registered
    weights) and save ``results.json``."""
    from videoshift.engine.config import load_config
    from videoshift.engine.runner import evaluate_model
    from videoshift.inference.arguments import load_from_args

    setup_logging()
    cfg = load_config(args.config, args.overrides)
    loaded = load_from_args(args)
    where = args.checkpoint.parent / f"test_{args.checkpoint.stem}" if args.checkpoint else None
    out = args.out or where or Path("work_dirs") / f"test_{Path(str(args.weights)).name}"
    batch = cfg["eval"]["batch_size"] or cfg["train"]["batch_size"]
    about = {"config": str(args.config), "views": args.views or "{}x{}".format(*loaded.recipe.views)}
    result = evaluate_model(
        loaded, cfg["data"], out, args.views, batch, cfg["train"]["num_workers"], cfg["train"]["device"], about
    )
    keys = ["top1", "top5", "mean_class_acc", "loss", "count", "incomplete"] + [
        k for k in result if k.startswith("video_")
    ]
    print("  ".join(f"{k} {result[k]:.2f}" if isinstance(result[k], float) else f"{k} {result[k]}" for k in keys))
    if result["incomplete"]:
        print(
            f"incomplete {result['incomplete']}: video files hold fewer frames than their headers promise "
            f"(cut short?); their answers come from the part present (listed in {out / 'results.json'})"
        )
    if loaded.upstream.get("top1") is not None:
        print(f"upstream top1 {loaded.upstream['top1']:.2f} (as published), measured {result['top1']:.2f}")
    print(f"results: {out}")
    return 0


def expand_videos(items: list[str]) -> list[str]:
    """Files as given, folders as their video files (recursively, sorted), glob patterns expanded."""
    import glob

    out: list[str] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            out += [str(p) for p in video_files(path)]
        elif any(c in item for c in "*?[") and not path.exists():
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                raise ValueError(f"no files match {item!r}")
            out += matches
        else:
            out.append(item)
    if not out:
        raise ValueError("no video files found")
    return out


def run_predict(args: argparse.Namespace) -> int:
    """Print the top-k classes of each video (table or JSON) and how each was read; exit code 1 if any file failed.

    ``--stream`` prints a running top-k instead (a causal model; see :func:`print_stream`).
    """
    import json

    from videoshift.data.completeness import summary_line
    from videoshift.engine import distributed
    from videoshift.inference.arguments import load_from_args
    from videoshift.inference.predict import predict_videos

    setup_logging()
    loaded = load_from_args(args, distributed.resolve_device(args.device))
    if args.stream:
        return print_stream(args, loaded)
    videos = expand_videos(args.videos)

    def progress(done: int, total: int) -> None:
        if total > 1 and sys.stderr.isatty():
            print(f"\r{done}/{total} videos", end="" if done < total else "\n", file=sys.stderr, flush=True)

    results = predict_videos(
        videos, loaded, args.top_k, batch_size=args.batch_size, num_workers=args.num_workers, progress=progress
    )
    failed = [r for r in results if r.error]
    if args.json:
        rows = [
            {"video": r.video, "error": r.error}
            if r.error
            else {"video": r.video, "clip": r.clip, **r.extent, "top": [{"class": n, "prob": p} for n, p in r.top]}
            for r in results
        ]
        print(json.dumps(rows, indent=2))
    else:
        for r in results:
            if r.error:
                continue
            print(f"{r.video}  ({r.clip['frames']} frames at {r.clip['size']} px, {r.clip['views']} views)")
            if summary_line(r.extent):
                print(f"  {summary_line(r.extent)}")
            for rank, (name, prob) in enumerate(r.top, 1):
                print(f"  {rank}. {name}  {prob:.4f}")
    for r in failed:
        print(f"videoshift predict: cannot read {r.video}: {r.error}", file=sys.stderr)
    return 1 if failed else 0


def print_stream(args: argparse.Namespace, loaded) -> int:
    """``videoshift predict --stream``: the running top-k of each source as it plays, with the frame's time stamp,
    and the frames per second measured over each source."""
    import time

    from videoshift.inference.online import stream_predictions

    for source in args.videos:
        print(source)
        start, frames = time.perf_counter(), 0
        for update in stream_predictions(str(source), loaded, args.top_k, args.window, args.every):
            frames = update.number + 1
            stamp = f"{update.seconds:8.2f} s" if update.seconds is not None else " " * 10
            top = "  ".join(f"{name} {prob:.3f}" for name, prob in update.top)
            print(f"  frame {update.number:>6} {stamp}: {top}", flush=True)
        seconds = time.perf_counter() - start
        print(f"  {frames} frames in {seconds:.2f} s: {frames / max(seconds, 1e-9):.1f} frames/s", flush=True)
    return 0
