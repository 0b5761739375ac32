"""``videoshift data``: convert official annotations, check lists, write the synthetic dataset."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``data convert``, ``data check`` and ``data synth``."""
    parser = subparsers.add_parser("data", help="convert annotations, check lists, write synthetic data")
    commands = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    convert = commands.add_parser("convert", help="official annotation files -> MMAction2 lists + label map")
    datasets = convert.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    ssv2 = datasets.add_parser("ssv2", help="Something-Something V2 (JSON)")
    ssv2.add_argument("--labels", type=Path, required=True, help="something-something-v2-labels.json")
    ssv1 = datasets.add_parser("ssv1", help="Something-Something V1 (CSV, frame folders)")
    ssv1.add_argument("--labels", type=Path, required=True, help="something-something-v1-labels.csv")
    ssv1.add_argument("--frames-root", type=Path, required=True, help="folder holding one frame folder per id")
    k400 = datasets.add_parser("k400", help="Kinetics-400 (CSV)")
    k400.add_argument("--label-map", type=Path, default=None, help="class order (default: sorted names)")
    diving = datasets.add_parser("diving48", help="Diving-48 V2 (JSON)")
    diving.add_argument("--vocab", type=Path, required=True, help="Diving48_vocab.json")
    for sub in (ssv2, ssv1, k400, diving):
        sub.add_argument("--train", type=Path, required=True, help="official training annotation file")
        sub.add_argument("--val", type=Path, required=True, help="official validation annotation file")
        sub.add_argument("--out", type=Path, required=True, help="output folder")
        sub.set_defaults(func=_convert)

    check = commands.add_parser("check", help="open every entry of a list; exit 1 if any is broken")
    check.add_argument("list", type=Path)
    check.add_argument("--root", type=Path, default=None, help="prefix of the list's paths (default: its folder)")
    check.add_argument("--rawframes", action="store_true", help="the list holds frame folders")
    check.add_argument("--with-offset", action="store_true")
    check.add_argument("--filename-tmpl", default="img_{:05d}.jpg")
    check.add_argument("--start-index", type=int, default=1)
    check.add_argument("--backend", default="pyav")
    check.add_argument("--full", action="store_true", help="decode every frame (slow; finds all damage)")
    classes = check.add_mutually_exclusive_group()
    classes.add_argument("--num-classes", type=int, default=None, help="labels must be below this")
    classes.add_argument("--label-map", type=Path, default=None, help="labels must be below its number of names")
    check.set_defaults(func=_check)

    synth = commands.add_parser(
        "synth",
        help="write the synthetic motion dataset as video files + lists, or as class folders",
        description="Write the synthetic motion clips: --out as MMAction2 lists, or --folders as class folders "
        "(FOLDERS/motion: train/ and val/, the clips videoshift train learns; FOLDERS/motion_unseen: another seed "
        "and another look, shapes, backgrounds and speeds, one folder per class, to try videoshift finetune on).",
    )
    where = synth.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="folder for the videos, train/val lists and label map")
    where.add_argument("--folders", type=Path, help="folder for the two class-folder sets")
    synth.add_argument("--num-train", type=int, default=600)
    synth.add_argument("--num-val", type=int, default=200)
    synth.add_argument("--num-frames", type=int, default=8)
    synth.add_argument("--size", type=int, default=64)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--lossless", action="store_true", help="RGB H.264 at qp 0 (decodes to the exact frames)")
    synth.set_defaults(func=_synth)


def _convert(args: argparse.Namespace) -> int:
    from videoshift.data import converters

    splits = {"train": args.train, "val": args.val}
    if args.dataset == "ssv2":
        paths = converters.convert_ssv2(args.labels, splits, args.out)
    elif args.dataset == "ssv1":
        paths = converters.convert_ssv1(args.labels, splits, args.frames_root, args.out)
    elif args.dataset == "k400":
        paths = converters.convert_kinetics400(splits, args.out, args.label_map)
    else:
        paths = converters.convert_diving48(args.vocab, splits, args.out)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from videoshift.data.check import check_list
    from videoshift.data.label_maps import read_label_map

    num_classes = len(read_label_map(args.label_map)) if args.label_map is not None else args.num_classes
    results = check_list(
        args.list,
        args.root,
        rawframes=args.rawframes,
        with_offset=args.with_offset,
        filename_tmpl=args.filename_tmpl,
        start_index=args.start_index,
        backend=args.backend,
        full=args.full,
        num_classes=num_classes,
    )
    total, broken = 0, 0
    for line, problem in results:
        total += 1
        if problem is not None:
            broken += 1
            print(f"{args.list}:{line}: {problem.path}: {problem.error}")
    print(f"{total - broken}/{total} entries readable, {broken} broken")
    return 1 if broken else 0


def _synth(args: argparse.Namespace) -> int:
    from videoshift.data.synthetic import write_class_folders, write_synthetic_dataset

    if args.folders is not None:
        common = {"num_frames": args.num_frames, "size": args.size, "lossless": args.lossless}
        seen = write_class_folders(args.folders / "motion", args.num_train, args.num_val, seed=args.seed, **common)
        total = args.num_train + args.num_val
        unseen = args.folders / "motion_unseen"
        write_class_folders(unseen, total, seed=args.seed + 1, variant=1, **common)
        print(f"motion: {seen} (train/, val/; seed {args.seed}, the clips of videoshift train)")
        print(f"motion_unseen: {unseen} (one folder per class; seed {args.seed + 1}, other shapes and backgrounds)")
        return 0
    paths = write_synthetic_dataset(
        args.out, args.num_train, args.num_val, args.num_frames, args.size, args.seed, lossless=args.lossless
    )
    for key in ("root", "train_list", "val_list", "label_map"):
        print(f"{key}: {paths[key]}")
    return 0
