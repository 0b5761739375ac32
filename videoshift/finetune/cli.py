"""``videoshift finetune DATA``: argument parsing over :func:`videoshift.finetune.run.finetune` (torch-free)."""

from __future__ import annotations

import argparse
from pathlib import Path

from videoshift.inference.arguments import add_source_arguments


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the finetune command."""
    parser = subparsers.add_parser(
        "finetune",
        help="fine-tune a model on a folder of labelled videos into a weights package",
        description="Fine-tune on DATA, a folder with one subfolder of videos per class (optionally split into "
        "train/, val/ and test/), from --weights, --checkpoint or --model [--pretrained], into a weights package "
        "OUT that predict, test, viz cam, export and demo read as --weights OUT. Every video is checked first; "
        "broken and too-short ones are skipped and listed. The defaults are the family's fine-tuning recipe, with "
        "the lr scaled linearly to the global batch.",
    )
    parser.add_argument("data", type=Path, help="folder of class folders (or of train/, val/, test/ class folders)")
    parser.add_argument("--out", type=Path, required=True, help="the weights package folder to write")
    parser.add_argument("--run-dir", type=Path, help="training run folder (default: OUT-run beside OUT)")
    parser.add_argument("--resume", action="store_true", help="continue the run in the run folder exactly")
    add_source_arguments(parser)
    start = parser.add_argument_group("or a registered model")
    start.add_argument("--model", help="a registered model (with --weights/--checkpoint: the model they must hold)")
    start.add_argument("--pretrained", action="store_true", help="with --model: ImageNet weights of its 2D counterpart")
    parser.add_argument(
        "--model-kw", action="append", default=[], metavar="KEY=VALUE", help="create_model argument (repeatable)"
    )
    recipe = parser.add_argument_group("recipe (default: the start's recipe and the family's fine-tuning defaults)")
    recipe.add_argument("--frames", type=int, help="frames per view (default: the start's)")
    recipe.add_argument("--size", type=int, help="crop side in pixels (default: the start's)")
    recipe.add_argument("--epochs", type=int)
    recipe.add_argument("--batch", type=int, help="clips per process and step")
    recipe.add_argument("--accumulate", type=int, default=1, help="gradient accumulation steps")
    recipe.add_argument("--lr", type=float, help="learning rate at --lr-batch (scaled to the real global batch)")
    recipe.add_argument("--lr-batch", type=int, help="the global batch --lr is stated for")
    recipe.add_argument("--val-fraction", type=float, default=0.2, help="share of each class drawn for val")
    recipe.add_argument("--seed", type=int, default=0, help="seed of the val split and of training")
    recipe.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="any config key, last"
    )
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--device", default="auto")
    parser.set_defaults(func=run_finetune)


def run_finetune(args: argparse.Namespace) -> int:
    """Fine-tune and print where the package is and its val top-1 / top-5."""
    from videoshift.assignments import parse_assignments
    from videoshift.engine.progress import setup_logging
    from videoshift.finetune.run import FinetuneOptions, finetune

    setup_logging()
    options = FinetuneOptions(
        data=args.data,
        out=args.out,
        run_dir=args.run_dir,
        weights=args.weights,
        checkpoint=args.checkpoint,
        config=args.config,
        model=args.model,
        pretrained=args.pretrained,
        model_kw=parse_assignments(args.model_kw),
        frames=args.frames,
        size=args.size,
        epochs=args.epochs,
        batch=args.batch,
        accumulate=args.accumulate,
        lr=args.lr,
        lr_batch=args.lr_batch,
        val_fraction=args.val_fraction,
        seed=args.seed,
        workers=args.workers,
        threads=args.threads,
        device=args.device,
        overrides=args.overrides,
        resume=args.resume,
    )
    metrics = finetune(options)
    print(
        f"package: {args.out} (val top1 {metrics['top1']:.2f}, top5 {metrics['top5']:.2f}, {metrics['count']} videos)"
    )
    print(f"use: videoshift predict VIDEO --weights {args.out}")
    return 0
