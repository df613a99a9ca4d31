"""``physioemo export-bids``: a dataset (its files, or the built-in synthetic data) as BIDS."""

from __future__ import annotations

from pathlib import Path

from .options import add_root, add_synthetic, choices


def add_export_bids(export) -> None:
    export.add_argument("dataset", choices=choices()["datasets"])
    add_root(export, "the dataset's file or folder (default: the built-in synthetic data)")
    export.add_argument(
        "--out", type=Path, required=True, metavar="BIDS", help="the BIDS folder to write"
    )
    add_synthetic(export, subjects="default: the dataset's", seconds="clip length (s)")
    export.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a folder that holds files (same names replaced)",
    )
    export.add_argument("--quiet", action="store_true", help="no progress bar")
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
