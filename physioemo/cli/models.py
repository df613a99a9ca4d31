"""``physioemo models``: the model registry, with parameter counts and inputs."""

from __future__ import annotations

import json

from .options import examples


def add_models(listing) -> None:
    listing.add_argument("--json", action="store_true", help="print JSON")
    examples(
        listing,
        ("the models, their sizes and inputs", "physioemo models"),
        ("the same as JSON", "physioemo models --json"),
    )
    listing.set_defaults(run=_models)


def _models(args) -> None:
    from ..models import available, describe

    rows = [describe(name) for name in available()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        counts = row.get("parameters")
        size = f"{counts['trainable']:,} trainable / {counts['total']:,} stored" if counts else "-"
        print(f"{row['model']:<14} {size:<36} {row['inputs']}")
        print(f"{'':<14} {row['summary']}")
