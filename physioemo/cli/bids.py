"""``physioemo export-bids``: a dataset (its files, or the built-in synthetic data) as BIDS."""

from __future__ import annotations

from pathlib import Path

from .options import add_root, add_synthetic, choices, examples


def add_export_bids(export) -> None:
    export.add_argument("dataset", choices=choices()["datasets"], help="the dataset to write")
    add_root(export, "the dataset's file or folder (default: the built-in synthetic data)")
    export.add_argument(
        "--out", type=Path, required=True, metavar="BIDS", help="the BIDS folder to write"
    )
    add_synthetic(export)
    export.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a folder that holds files (same names replaced)",
    )
    export.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    examples(
        export,
        ("the built-in synthetic DEAP as BIDS", "physioemo export-bids deap --out bids/deap"),
        (
            "DREAMER's file as BIDS, into a folder that holds files",
            "physioemo export-bids dreamer --root DREAMER.mat --out bids/dreamer --overwrite",
        ),
    )
    export.set_defaults(run=_export_bids)


def _export_bids(args) -> None:
    from ..datasets import card
    from ..datasets.bids import export_bids
    from ..experiment.plan import synthetic_root

    chosen = card(args.dataset)
    root = args.root
    if root is None:
        asked = {
            k[len("synthetic.") :]: v for k, v in vars(args).items() if k.startswith("synthetic.")
        }
        sizes = {**chosen.synthetic, "seed": 0, **{k: v for k, v in asked.items() if v is not None}}
        root = synthetic_root(args.dataset, **sizes)
    dataset = chosen.load(root)
    out = export_bids(dataset, args.out, overwrite=args.overwrite, progress=not args.quiet)
    print(f"wrote {out} ({len(dataset.subjects)} subjects of {args.dataset} as BIDS)")
